using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeepSeekMesh.Gateway.Serving;

/// <summary>
/// The one serving pipeline of chat, legacy completions and the WebSocket: admits a validated job
/// (tokens-per-minute limit), starts its choices on the cluster — a refusal throws an
/// <see cref="ApiException"/> before anything is written — and hands back the stream that the JSON,
/// SSE and WebSocket writers consume.
/// </summary>
public sealed class ServingCompletion(Generation generation, GatewayMetrics metrics, TokenRateLimits tokenLimits, IOptions<GatewayOptions> options,
    ILogger<ServingCompletion> logger)
{
    /// <param name="idPrefix">"chatcmpl-" or "cmpl-", as OpenAI names its objects.</param>
    public async Task<ServingStream> StartAsync(HttpContext context, GenerationJob job, string idPrefix, CancellationToken cancellationToken)
    {
        tokenLimits.Charge(context, job);
        metrics.AddRequest();
        var id = idPrefix + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var started = await generation.StartAsync(job, id, cancellationToken);
        return new ServingStream(job, id, created, started, options.Value, logger);
    }
}
