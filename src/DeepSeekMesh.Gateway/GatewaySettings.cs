using System.Net;
using Microsoft.Extensions.Logging;

namespace DeepSeekMesh.Gateway;

/// <summary>Where the gateway listens and which model it serves; how it reaches the cluster is the caller's (see <see cref="GatewayHost.Build"/>).</summary>
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
    /// <summary>The OpenTelemetry service name (<c>dsmesh-gateway</c>; <c>dsmesh serve</c> says <c>dsmesh-serve</c>).</summary>
    public string ServiceName { get; init; } = "dsmesh-gateway";
    public LogLevel LogLevel { get; init; } = LogLevel.Information;
}
