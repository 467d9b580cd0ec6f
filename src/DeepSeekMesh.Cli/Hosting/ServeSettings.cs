using DeepSeekMesh.Gateway;
using DeepSeekMesh.Silo;

namespace DeepSeekMesh.Cli.Hosting;

/// <summary><c>dsmesh serve</c>: the gateway's settings and the one silo (role all) hosted beside it.</summary>
public sealed record ServeSettings
{
    public required GatewaySettings Gateway { get; init; }
    /// <summary>The in-process silo; its role, model directory and model id come from <see cref="Gateway"/>.</summary>
    public MeshSiloOptions Silo { get; init; } = new();
    public int SiloPort { get; init; } = 11111;
    /// <summary>The in-process silo's client gateway port (other clients, e.g. the bench's direct mode, connect there); 0 = none.</summary>
    public int SiloGatewayPort { get; init; } = 30000;
    public string ClusterId { get; init; } = "dsmesh";
    public string ServiceId { get; init; } = "dsmesh";
}
