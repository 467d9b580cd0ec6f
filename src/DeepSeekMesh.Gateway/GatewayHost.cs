using System.Net;
using DeepSeekMesh.ServiceDefaults;
using DeepSeekMesh.Silo;
using DeepSeekMesh.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace DeepSeekMesh.Gateway;

/// <summary>Where the gateway listens, which model it serves, and how it reaches the cluster.</summary>
public sealed record GatewaySettings
{
    public required string ModelDirectory { get; init; }
    /// <summary>The model's id in the API and the stats grain's key; default: the directory's name (as the silos default it).</summary>
    public string? ModelId { get; init; }
    public IPAddress Address { get; init; } = IPAddress.Loopback;
    /// <summary>HTTP port; 0 picks a free one (see <see cref="GatewayHost.HttpAddress"/>).</summary>
    public int Port { get; init; } = 8000;
    /// <summary>Applied after configuration (section <c>Gateway</c>): the CLI's --api-key, --rpm, --tpm.</summary>
    public Action<GatewayOptions>? Configure { get; init; }

    /// <summary><c>dsmesh serve</c>: host a silo of role all in this process (null: connect to a cluster as a client).</summary>
    public MeshSiloOptions? Silo { get; init; }
    public int SiloPort { get; init; } = 11111;
    /// <summary>The in-process silo's client gateway port (other clients, e.g. the bench's direct mode, connect there); 0 = none.</summary>
    public int SiloGatewayPort { get; init; } = 30000;

    /// <summary>Client mode: silo client-gateway endpoints (static clustering, e.g. the primary's --gateway-port).</summary>
    public IReadOnlyList<IPEndPoint> ClusterGateways { get; init; } = [];
    /// <summary>Client mode: Redis membership connection string.</summary>
    public string? Redis { get; init; }
    public string ClusterId { get; init; } = "dsmesh";
    public string ServiceId { get; init; } = "dsmesh";
    public LogLevel LogLevel { get; init; } = LogLevel.Information;
}

/// <summary>
/// Builds the gateway: ASP.NET Core (Kestrel on one address and port) plus an Orleans client — or,
/// for <c>dsmesh serve</c>, a whole one-silo mesh in the same process whose grain factory the gateway uses.
/// </summary>
public static class GatewayHost
{
    public static WebApplication Build(GatewaySettings settings)
    {
        var model = ServedModel.Load(settings.ModelDirectory, settings.ModelId);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ContentRootPath = Directory.GetCurrentDirectory() });
        builder.Logging.SetMinimumLevel(settings.LogLevel);
        builder.Logging.AddFilter("Orleans", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", settings.LogLevel);
        // OpenTelemetry (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set; /metrics with Telemetry:Prometheus), health checks, resilience.
        builder.AddServiceDefaults(settings.Silo is null ? "dsmesh-gateway" : "dsmesh-serve");

        var services = builder.Services;
        services.AddOptions<GatewayOptions>().Bind(builder.Configuration.GetSection(GatewayOptions.Section))
            .Configure(o => settings.Configure?.Invoke(o));
        services.AddSingleton(model);
        services.AddSingleton<ApiKeys>();
        services.AddSingleton<TokenRateLimits>();
        services.AddSingleton<GatewayMetrics>();
        services.AddSingleton<GenAiServerMetrics>();
        services.AddSingleton(sp => new Generation(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<GatewayMetrics>(),
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value, sp.GetRequiredService<GenAiServerMetrics>()));
        services.AddSingleton<CompletionEndpoints>();
        services.AddSingleton<InfoEndpoints>();
        services.AddSingleton<WebSocketEndpoint>();
        services.AddGatewayRateLimits();
        services.AddHostedService<StartupReport>();

        long bodyLimit = builder.Configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>()?.MaxRequestBodyBytes ?? new GatewayOptions().MaxRequestBodyBytes;
        var probe = new GatewayOptions { MaxRequestBodyBytes = bodyLimit };
        settings.Configure?.Invoke(probe);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = probe.MaxRequestBodyBytes;
            k.Listen(settings.Address, settings.Port);
        });

        if (settings.Silo is { } silo)
        {
            var mesh = silo with { Role = SiloRole.All, ModelDirectory = model.Directory, ModelId = model.Id };
            builder.UseOrleans(s =>
            {
                s.Configure<ClusterOptions>(o => { o.ClusterId = settings.ClusterId; o.ServiceId = settings.ServiceId; });
                s.ConfigureEndpoints(IPAddress.Loopback, settings.SiloPort, settings.SiloGatewayPort, listenOnAnyHostAddress: false);
                s.Services.PostConfigure<EndpointOptions>(o => o.AdvertisedIPAddress = IPAddress.Loopback);
                s.UseDevelopmentClustering(new IPEndPoint(IPAddress.Loopback, settings.SiloPort));
                s.AddDeepSeekMesh(mesh);
                s.AddActivityPropagation();
            });
            services.AddHostedService<MeshMetrics>();
        }
        else
        {
            if (settings.ClusterGateways.Count == 0 && settings.Redis is null)
                throw new ArgumentException("the gateway needs a cluster: give a silo gateway endpoint (--primary HOST:PORT) or --redis");
            builder.UseOrleansClient(c =>
            {
                c.Configure<ClusterOptions>(o => { o.ClusterId = settings.ClusterId; o.ServiceId = settings.ServiceId; });
                if (settings.Redis is { } redis) c.UseRedisClustering(redis);
                else c.UseStaticClustering(settings.ClusterGateways.ToArray());
                c.UseConnectionRetryFilter(RetryConnect);
                c.AddActivityPropagation(); // the request's trace continues into the completion grain
            });
        }

        var app = builder.Build();
        Map(app);
        return app;
    }

    static async Task<bool> RetryConnect(Exception error, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"gateway: cluster not reachable yet ({error.GetType().Name}: {error.Message}); retrying in 2 s");
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        return !cancellationToken.IsCancellationRequested;
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

/// <summary>Logs what was started and warns when the API is open.</summary>
sealed class StartupReport(ServedModel model, ApiKeys keys, IOptions<GatewayOptions> options, ILogger<StartupReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (keys.Open)
            logger.LogWarning("no API keys configured (Gateway:ApiKeys or --api-key): the API is open to anyone who can reach it");
        logger.LogInformation("serving model {Model} (context {Context} tokens{Random}); limits: {Rpm} requests/min, {Tpm} tokens/min per key (0 = unlimited), body {Body} bytes",
            model.Id, model.ContextLength, model.RandomWeights ? ", RANDOM WEIGHTS (demo)" : "", o.RequestsPerMinute, o.TokensPerMinute, o.MaxRequestBodyBytes);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
