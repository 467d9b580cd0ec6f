using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace DeepSeekMesh.ServiceDefaults;

/// <summary>
/// What every DeepSeekMesh process (gateway, silos, <c>dsmesh serve</c>) gets: OpenTelemetry logs,
/// traces and metrics (OTLP export when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, as the Aspire
/// AppHost does; a Prometheus scrape endpoint when <c>Telemetry:Prometheus</c> is true), health
/// checks, and resilience plus service discovery for outgoing HTTP clients.
/// </summary>
public static class ServiceDefaultsExtensions
{
    /// <summary>Health checks tagged "live" answer /alive (the process runs); all of them answer /health.</summary>
    public const string LiveTag = "live";

    /// <param name="defaultServiceName">service.name when <c>OTEL_SERVICE_NAME</c> is not set.</param>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, string defaultServiceName) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry(defaultServiceName);

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag])
            .AddCheck<StartedHealthCheck>("started");

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        // Processes without their own HTTP server (silos) serve /health, /alive and /metrics on a side port.
        if (builder is not WebApplicationBuilder && builder.Configuration.GetValue<int?>(Telemetry.ManagementPortKey) is > 0)
            builder.Services.AddHostedService<ManagementEndpoint>();
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder, string defaultServiceName) where TBuilder : IHostApplicationBuilder
    {
        var config = builder.Configuration;
        // The resilience telemetry registered for HTTP clients also reaches the pipelines Orleans builds for
        // placement, which would then log every execution at Information.
        builder.Logging.AddFilter("Polly", LogLevel.Warning);
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME (the AppHost sets it to the resource's name) wins over our default.
                if (string.IsNullOrEmpty(config["OTEL_SERVICE_NAME"]))
                    resource.AddService(defaultServiceName, serviceInstanceId: $"{Dns.GetHostName()}:{Environment.ProcessId}");
            })
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(Telemetry.MeterName)
                    .AddMeter(Telemetry.OrleansMeter)
                    // Per-expert load has one series per (MoE layer, expert): 58 x 256 in DeepSeek-V3.
                    .AddView(MeshMetricNames.ExpertLoad, new MetricStreamConfiguration { CardinalityLimit = 1 << 16 });
                if (config.GetValue<bool>(Telemetry.PrometheusKey))
                    metrics.AddPrometheusExporter();
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(builder.Environment.ApplicationName)
                    .AddSource(Telemetry.ActivitySourcePrefix, Telemetry.ActivitySourcePrefix + ".*")
                    .AddSource(Telemetry.OrleansApplicationSource)
                    .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsInfrastructure(context.Request.Path))
                    .AddHttpClientInstrumentation();
                // Membership probes, directory and other system calls: noisy, off unless asked for.
                if (config.GetValue<bool>(Telemetry.OrleansRuntimeTracesKey))
                    tracing.AddSource(Telemetry.OrleansRuntimeSource);
                // Traces start at requests: grain calls made by timers and pollers (router load reports, the metrics'
                // stats poll) would otherwise each start a trace of their own every few seconds.
                if (!config.GetValue<bool>(Telemetry.OrleansRootTracesKey))
                    tracing.SetSampler(new ParentBasedSampler(new NoRootGrainCallsSampler()));
            });

        if (!string.IsNullOrWhiteSpace(config[Telemetry.OtlpEndpointKey]))
            otel.UseOtlpExporter();
        return builder;
    }

    static bool IsInfrastructure(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/alive") || path.StartsWithSegments("/metrics");

    /// <summary>
    /// Maps <c>/alive</c> and, with <c>Telemetry:Prometheus</c>, <c>/metrics</c> on a web host; <paramref name="healthPath"/>
    /// (null: none, for hosts that serve their own readiness) answers every health check.
    /// </summary>
    public static WebApplication MapServiceDefaultEndpoints(this WebApplication app, string? healthPath = "/health")
    {
        if (healthPath is not null) app.MapHealthChecks(healthPath);
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = r => r.Tags.Contains(LiveTag) });
        if (app.Configuration.GetValue<bool>(Telemetry.PrometheusKey))
            app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}

/// <summary>
/// Root sampler: drops a trace that would start at an Orleans grain call (activity name "IInterface/Method"),
/// keeps every other root (HTTP requests, our own sources). Spans with a parent follow it (ParentBased).
/// </summary>
sealed class NoRootGrainCallsSampler : Sampler
{
    public override SamplingResult ShouldSample(in SamplingParameters parameters)
    {
        var name = parameters.Name;
        int slash = name.IndexOf('/');
        bool grainCall = parameters.Kind is ActivityKind.Client or ActivityKind.Server
            && slash > 0 && slash == name.LastIndexOf('/') && !name.Contains(' ');
        return new SamplingResult(grainCall ? SamplingDecision.Drop : SamplingDecision.RecordAndSample);
    }
}

/// <summary>Ready once the host has started every hosted service (for a silo: joined the cluster, loaded its model).</summary>
sealed class StartedHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(lifetime.ApplicationStarted.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy(lifetime.ApplicationStopping.IsCancellationRequested ? "stopping" : "starting"));
}

/// <summary>
/// A small Kestrel server beside a host that has none (a silo): <c>/health</c>, <c>/alive</c> and,
/// with <c>Telemetry:Prometheus</c>, <c>/metrics</c>, on <c>Management:Port</c> at <c>Management:Address</c>
/// (default loopback; 0.0.0.0 in a pod so Prometheus and the kubelet reach it).
/// </summary>
sealed class ManagementEndpoint(IServiceProvider services, IConfiguration configuration, ILogger<ManagementEndpoint> logger) : IHostedService
{
    WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        int port = configuration.GetValue<int>(Telemetry.ManagementPortKey);
        var addressText = configuration[Telemetry.ManagementAddressKey];
        var address = string.IsNullOrEmpty(addressText) ? IPAddress.Loopback
            : IPAddress.TryParse(addressText, out var parsed) ? parsed
            : throw new ArgumentException($"{Telemetry.ManagementAddressKey}: '{addressText}' is not an IP address");
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port));
        var app = builder.Build();
        var health = services.GetRequiredService<HealthCheckService>();
        app.MapGet("/health", (CancellationToken ct) => Report(health, null, ct));
        app.MapGet("/alive", (CancellationToken ct) => Report(health, r => r.Tags.Contains(ServiceDefaultsExtensions.LiveTag), ct));
        if (configuration.GetValue<bool>(Telemetry.PrometheusKey))
            app.UseOpenTelemetryPrometheusScrapingEndpoint(services.GetRequiredService<MeterProvider>(), null, "/metrics", null, null);
        await app.StartAsync(cancellationToken);
        _app = app;
        logger.LogInformation("management endpoint on http://{Address}:{Port} (/health, /alive{Metrics})", address, port,
            configuration.GetValue<bool>(Telemetry.PrometheusKey) ? ", /metrics" : "");
    }

    static async Task<IResult> Report(HealthCheckService health, Func<HealthCheckRegistration, bool>? predicate, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(predicate, ct);
        return Results.Text(report.Status.ToString(), "text/plain", statusCode: report.Status == HealthStatus.Unhealthy ? 503 : 200);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}
