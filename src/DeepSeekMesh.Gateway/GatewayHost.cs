using DeepSeekMesh.Gateway.Serving;
using DeepSeekMesh.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeepSeekMesh.Gateway;

/// <summary>
/// Builds the gateway: ASP.NET Core (Kestrel on one address and port) over the grain factory of an
/// Orleans the caller configures — a client of a running mesh (<c>dsmesh gateway</c>) or a silo in the
/// same process (<c>dsmesh serve</c>).
/// </summary>
public static class GatewayHost
{
    /// <param name="settings">What to serve and where.</param>
    /// <param name="orleans">Adds Orleans to the builder (<c>UseOrleansClient</c> or <c>UseOrleans</c>): the gateway needs its <see cref="IGrainFactory"/>.</param>
    public static WebApplication Build(GatewaySettings settings, Action<WebApplicationBuilder> orleans)
    {
        var model = ServedModel.Load(settings.ModelDirectory, settings.ModelId);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
        builder.Logging.SetMinimumLevel(settings.LogLevel);
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", settings.LogLevel);
        // OpenTelemetry (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; /metrics with Telemetry:Prometheus), health checks, resilience.
        builder.AddServiceDefaults(settings.ServiceName);

        var services = builder.Services;
        services.AddOptions<GatewayOptions>().Bind(builder.Configuration.GetSection(GatewayOptions.Section))
            .Configure(o => settings.Configure?.Invoke(o));
        services.AddSingleton(model);
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<TokenRateLimits>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<GenAiServerMetrics>();
        services.AddSingleton<Frontends.FrontendWatch>();
        services.AddSingleton(sp => new Generation(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<GatewayMetrics>(),
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value, sp.GetRequiredService<Frontends.FrontendWatch>(),
            sp.GetRequiredService<ILogger<Generation>>(), sp.GetRequiredService<GenAiServerMetrics>()));
        services.AddSingleton<ServingCompletion>();
        services.AddSingleton<CompletionEndpoints>();
        services.AddSingleton<MeshReports>();
        services.AddSingleton<InfoEndpoints>();
        services.AddSingleton<WebSocketEndpoint>();
        services.AddGatewayRateLimits();
        services.AddHostedService<StartupReport>();

        // Kestrel's limits: the options as configured (section Gateway, then the CLI's settings).
        var limits = builder.Configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
        settings.Configure?.Invoke(limits);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = limits.MaxRequestBodyBytes; // 413 above it
            k.Limits.MinRequestBodyDataRate = new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(limits.MinRequestBodyBytesPerSecond, TimeSpan.FromSeconds(5)); // slow-drip bodies: 408
            k.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(limits.RequestHeadersTimeoutSeconds);
            // Headers over Kestrel's 32 KiB total are answered 431.
            k.Listen(settings.Address, settings.Port);
        });

        orleans(builder);

        var app = builder.Build();
        Map(app);
        return app;
    }

    static void Map(WebApplication app)
    {
        app.Use(ErrorMiddleware);
        app.Use(GenAiOperation);
        app.Use(ApiKeys.Middleware);
        app.UseRouting();
        app.UseRateLimiter();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });

        app.MapPost("/v1/chat/completions", (HttpContext c) => c.RequestServices.GetRequiredService<CompletionEndpoints>().Chat(c))
            .RequireRateLimiting(RateLimits.PerClient);
        app.MapPost("/v1/completions", (HttpContext c) => c.RequestServices.GetRequiredService<CompletionEndpoints>().Completion(c))
            .RequireRateLimiting(RateLimits.PerClient);
        app.MapGet("/v1/models", (HttpContext c) => c.RequestServices.GetRequiredService<InfoEndpoints>().Models(c))
            .RequireRateLimiting(RateLimits.PerClient);
        app.MapGet("/v1/models/{**id}", (HttpContext c, string id) => c.RequestServices.GetRequiredService<InfoEndpoints>().Model(c, id))
            .RequireRateLimiting(RateLimits.PerClient);
        app.MapGet("/v1/mesh", (HttpContext c) => c.RequestServices.GetRequiredService<InfoEndpoints>().Mesh(c));
        app.MapGet("/ws", (HttpContext c) => c.RequestServices.GetRequiredService<WebSocketEndpoint>().Handle(c))
            .RequireRateLimiting(RateLimits.PerClient);
        app.MapServiceDefaultEndpoints(healthPath: null); // /alive, and /metrics with Telemetry:Prometheus
        app.MapGet("/health", InfoEndpoints.Live);
        app.MapGet("/health/ready", (HttpContext c) => c.RequestServices.GetRequiredService<InfoEndpoints>().Ready(c));
        app.MapFallback((HttpContext c) => throw new ApiException(404, $"Unknown request URL: {c.Request.Method} {c.Request.Path}.", ApiException.InvalidRequest, null, "unknown_url"));
    }

    /// <summary>gen_ai.operation.name of the GenAI metrics recorded for this request.</summary>
    static Task GenAiOperation(HttpContext context, RequestDelegate next)
    {
        GenAiServerMetrics.Operation = context.Request.Path.StartsWithSegments("/v1/completions") ? "text_completion" : "chat";
        return next(context);
    }

    /// <summary>Every failure becomes OpenAI's error JSON; a client that left gets nothing; only real bugs log as errors (500).</summary>
    static async Task ErrorMiddleware(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client disconnected: its generation was cancelled with RequestAborted; nothing to answer.
        }
        catch (BadHttpRequestException e)
        {
            await ApiErrors.WriteAsync(context, new ApiException(e.StatusCode, e.StatusCode == 413 ? "The request body is too large." : e.Message,
                ApiException.InvalidRequest, null, e.StatusCode == 413 ? "request_too_large" : "bad_request"));
        }
        catch (Exception e)
        {
            var api = Generation.Map(e, context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value);
            if (api is null)
            {
                context.RequestServices.GetRequiredService<ILogger<GatewayMetrics>>().LogError(e, "unhandled error in {Method} {Path}", context.Request.Method, context.Request.Path);
                api = new ApiException(500, "The server had an error while processing your request.", "server_error", null, "internal_error");
            }
            await ApiErrors.WriteAsync(context, api);
        }
    }

    /// <summary>The first http:// address Kestrel listens on (after StartAsync).</summary>
    public static Uri HttpAddress(this WebApplication app) =>
        new(app.Urls.First(u => u.StartsWith("http://", StringComparison.Ordinal)));
}
