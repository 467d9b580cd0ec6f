namespace DeepSeekMesh.Gateway;

/// <summary>
/// What the HTTP front end enforces. Bound from the configuration section <c>Gateway</c>
/// (appsettings.json, or environment variables such as <c>Gateway__ApiKeys__0</c>) and the CLI.
/// </summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Accepted bearer keys; none = open (a warning is logged at start-up).</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>Requests per minute per API key (per client address when open); 0 = unlimited.</summary>
    public int RequestsPerMinute { get; set; }

    /// <summary>Tokens per minute per API key: prompt tokens plus max_tokens, charged at admission, times n; 0 = unlimited.</summary>
    public int TokensPerMinute { get; set; }

    /// <summary>Largest request body (Kestrel limit and WebSocket message limit): 413 above it. 4 MiB: a long chat's JSON.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 << 20;

    /// <summary>
    /// Slowest request body Kestrel accepts, after a 5 s grace period: a client that drips its body slower
    /// is answered 408 and disconnected, so it cannot hold a connection and a request slot forever.
    /// </summary>
    public double MinRequestBodyBytesPerSecond { get; set; } = 240;

    /// <summary>Time a client has to send its request headers (a connection that sends nothing is closed after it).</summary>
    public double RequestHeadersTimeoutSeconds { get; set; } = 10;

    /// <summary>Largest <c>n</c> (choices per prompt) and largest number of prompts times n in one request.</summary>
    public int MaxChoices { get; set; } = 16;

    /// <summary>Largest number of stop strings.</summary>
    public int MaxStopSequences { get; set; } = 16;

    /// <summary>
    /// Split R1-style reasoning (<c>&lt;think&gt;…&lt;/think&gt;</c>) into <c>reasoning_content</c> unless a request
    /// says otherwise (<c>separate_reasoning</c>). Only for models whose vocabulary has think tokens.
    /// </summary>
    public bool Reasoning { get; set; }

    /// <summary>
    /// Attempts of one choice when its frontend silo fails (the first included): a non-streamed request, or a streamed one
    /// before its first token, starts over on another frontend (see Frontends/FrontendRetryPolicy); 1 = never retry.
    /// </summary>
    public int FrontendAttempts { get; set; } = 8;

    /// <summary>Retry-After seconds sent with 429s when the cluster is saturated.</summary>
    public int OverloadedRetryAfterSeconds { get; set; } = 1;
}
