using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DeepSeekMesh.Gateway;

/// <summary>
/// Bearer API keys from configuration. Keys are compared as SHA-256 digests with
/// <see cref="CryptographicOperations.FixedTimeEquals"/> against every configured key, so neither the
/// length nor the content of a key leaks through timing. No keys configured: open.
/// </summary>
public sealed class ApiKeys
{
    readonly byte[][] _digests;

    public ApiKeys(IOptions<GatewayOptions> options)
    {
        _digests = options.Value.ApiKeys.Where(k => !string.IsNullOrEmpty(k)).Select(k => SHA256.HashData(Encoding.UTF8.GetBytes(k))).ToArray();
    }

    public bool Open => _digests.Length == 0;

    /// <summary>The index of the matching key, or -1.</summary>
    public int Match(string presented)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        int found = -1;
        for (int i = 0; i < _digests.Length; i++)
            if (CryptographicOperations.FixedTimeEquals(digest, _digests[i]) && found < 0) found = i;
        return found;
    }

    /// <summary>The key (or client address, when open) that rate limits are counted against.</summary>
    public static string ClientOf(HttpContext context) =>
        context.Items[ClientItem] as string ?? "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    public const string ClientItem = "dsmesh.client";

    /// <summary>Authenticates /v1/* and /ws; /health stays open for probes.</summary>
    public static async Task Middleware(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/v1") && !path.StartsWithSegments("/ws"))
        {
            await next(context);
            return;
        }
        var keys = context.RequestServices.GetRequiredService<ApiKeys>();
        if (keys.Open)
        {
            await next(context);
            return;
        }
        string? presented = null;
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) presented = header["Bearer ".Length..].Trim();
        else if (path.StartsWithSegments("/ws") && context.Request.Query["api_key"] is { Count: > 0 } q) presented = q.ToString(); // browsers cannot set headers on WebSockets
        if (presented is null)
        {
            await ApiErrors.WriteAsync(context, new ApiException(401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                ApiException.InvalidRequest, null, "missing_api_key"));
            return;
        }
        int index = keys.Match(presented);
        if (index < 0)
        {
            await ApiErrors.WriteAsync(context, new ApiException(401, "Incorrect API key provided.", ApiException.InvalidRequest, null, "invalid_api_key"));
            return;
        }
        context.Items[ClientItem] = "key:" + index.ToString(CultureInfo.InvariantCulture);
        await next(context);
    }
}

/// <summary>Per-key tokens per minute: prompt tokens plus max_tokens of every choice, charged when a request is admitted.</summary>
public sealed class TokenRateLimits : IDisposable
{
    readonly int _perMinute;
    readonly PartitionedRateLimiter<string>? _limiter;

    public TokenRateLimits(IOptions<GatewayOptions> options)
    {
        _perMinute = options.Value.TokensPerMinute;
        if (_perMinute > 0)
            _limiter = PartitionedRateLimiter.Create<string, string>(client => RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = _perMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
    }

    public void Charge(HttpContext context, GenerationJob job)
    {
        if (_limiter is null) return;
        long tokens = job.ChargedTokens;
        if (tokens > _perMinute)
            throw new ApiException(429, $"Request too large: it needs {tokens} tokens (prompt + max_tokens, times n) and the limit is {_perMinute} tokens per minute.",
                "tokens", null, "rate_limit_exceeded") { RetryAfterSeconds = 60 };
        using var lease = _limiter.AttemptAcquire(ApiKeys.ClientOf(context), (int)tokens);
        if (!lease.IsAcquired)
            throw new ApiException(429, $"Rate limit reached: {_perMinute} tokens per minute. Please retry after a short wait.", "tokens", null, "rate_limit_exceeded")
            {
                RetryAfterSeconds = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 60,
            };
    }

    public void Dispose() => _limiter?.Dispose();
}

public static class RateLimits
{
    public const string PerClient = "per-client";

    /// <summary>Requests per minute per API key (per client address when open), with ASP.NET Core's rate limiter.</summary>
    public static IServiceCollection AddGatewayRateLimits(this IServiceCollection services)
    {
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(PerClient, context =>
            {
                int rpm = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.RequestsPerMinute;
                var client = ApiKeys.ClientOf(context);
                return rpm <= 0
                    ? RateLimitPartition.GetNoLimiter(client)
                    : RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = rpm,
                        Window = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                        AutoReplenishment = true,
                    });
            });
            o.OnRejected = async (ctx, ct) =>
            {
                int rpm = ctx.HttpContext.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.RequestsPerMinute;
                int after = ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var a) ? Math.Max(1, (int)Math.Ceiling(a.TotalSeconds)) : 60;
                await ApiErrors.WriteAsync(ctx.HttpContext, new ApiException(429, $"Rate limit reached: {rpm} requests per minute. Please retry after {after} s.",
                    "requests", null, "rate_limit_exceeded") { RetryAfterSeconds = after });
            };
        });
        return services;
    }
}
