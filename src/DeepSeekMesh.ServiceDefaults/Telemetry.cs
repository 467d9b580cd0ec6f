namespace DeepSeekMesh.ServiceDefaults;

/// <summary>Names every DeepSeekMesh process uses for its own telemetry.</summary>
public static class Telemetry
{
    /// <summary>The <see cref="System.Diagnostics.Metrics.Meter"/> of the GenAI and mesh metrics.</summary>
    public const string MeterName = "DeepSeekMesh";

    /// <summary>Prefix of our <see cref="System.Diagnostics.ActivitySource"/>s (e.g. <c>DeepSeekMesh.Engine</c>).</summary>
    public const string ActivitySourcePrefix = "DeepSeekMesh";

    /// <summary>Orleans 10's activity sources: application grain calls and runtime (system) calls.</summary>
    public const string OrleansApplicationSource = "Microsoft.Orleans.Application";
    public const string OrleansRuntimeSource = "Microsoft.Orleans.Runtime";

    /// <summary>Orleans' own meter (messaging, grains, membership...).</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>Configuration keys (environment: <c>Telemetry__Prometheus=true</c>, <c>Management__Port=9464</c>).</summary>
    public const string PrometheusKey = "Telemetry:Prometheus";
    public const string OrleansRuntimeTracesKey = "Telemetry:OrleansRuntimeTraces";
    /// <summary>Keep traces that start at a grain call (timers, pollers, direct Orleans clients); off by default.</summary>
    public const string OrleansRootTracesKey = "Telemetry:OrleansRootTraces";
    public const string ManagementPortKey = "Management:Port";
    public const string ManagementAddressKey = "Management:Address";
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";
}
