using System.Net;

namespace DeepSeekMesh.Cli.Hosting;

/// <summary><c>dsmesh gateway</c>: how the gateway's Orleans client finds the mesh.</summary>
public sealed record ClusterClientSettings
{
    /// <summary>Silo client-gateway endpoints (static clustering, e.g. the primary's --gateway-port).</summary>
    public IReadOnlyList<IPEndPoint> Gateways { get; init; } = [];
    /// <summary>Redis membership connection string.</summary>
    public string? Redis { get; init; }
    public string ClusterId { get; init; } = "dsmesh";
    public string ServiceId { get; init; } = "dsmesh";
    /// <summary>Mutual TLS to the silos (they must run with TLS too); null = plain TCP.</summary>
    public DeepSeekMesh.Silo.Hosting.MeshTls? Tls { get; init; }
}
