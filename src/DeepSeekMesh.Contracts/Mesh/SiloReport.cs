namespace DeepSeekMesh.Contracts.Mesh;

/// <summary>What one silo is and hosts, as its <see cref="IMeshSiloGrain"/> reports it (for /v1/mesh and metrics).</summary>
[GenerateSerializer, Immutable, Alias("dsm.SiloReport")]
public sealed class SiloReport
{
    /// <summary>The silo's address (<c>SiloAddress.ToParsableString()</c>).</summary>
    [Id(0)] public string Address { get; init; } = "";
    /// <summary>"frontend", "expert" or "all".</summary>
    [Id(1)] public string Role { get; init; } = "";
    [Id(2)] public string Model { get; init; } = "";
    /// <summary>True while the silo is draining (stopping: its experts move away before it exits).</summary>
    [Id(3)] public bool Draining { get; init; }
    /// <summary>The placement plan version this silo follows (0: none yet).</summary>
    [Id(4)] public long PlanVersion { get; init; }
    /// <summary>Expert grain keys ("layer/expert/replica") active on this silo.</summary>
    [Id(5)] public string[] Experts { get; init; } = [];
    /// <summary>Bytes of expert weights resident on this silo.</summary>
    [Id(6)] public long ExpertBytes { get; init; }
    /// <summary>Expert rows computed on this silo since it started.</summary>
    [Id(7)] public long ExpertRows { get; init; }
    /// <summary>Expert messages (batches or single-expert calls) served since start.</summary>
    [Id(8)] public long ExpertCalls { get; init; }
    /// <summary>Declared expert capacity (experts); null = unlimited.</summary>
    [Id(9)] public int? ExpertCapacity { get; init; }
    /// <summary>Rows that reached this silo for a replica not active here and took an extra hop to its grain (a stale plan, a first use).</summary>
    [Id(11)] public long ForwardedRows { get; init; }
    /// <summary>The frontend engine's state; null on silos that run no engine.</summary>
    [Id(10)] public EngineReport? Engine { get; init; }
}

/// <summary>A frontend engine's queue, KV cache and expert traffic.</summary>
[GenerateSerializer, Immutable, Alias("dsm.EngineReport")]
public sealed class EngineReport
{
    [Id(0)] public int Running { get; init; }
    [Id(1)] public int Waiting { get; init; }
    [Id(2)] public int CacheBlocksUsed { get; init; }
    [Id(3)] public int CacheBlocksTotal { get; init; }
    [Id(4)] public long Steps { get; init; }
    [Id(5)] public long TokensGenerated { get; init; }
    /// <summary>Expert messages this engine sent (one per expert silo per MoE layer step).</summary>
    [Id(6)] public long ExpertCalls { get; init; }
    [Id(7)] public long ExpertRows { get; init; }
    [Id(8)] public long ExpertRetries { get; init; }
}
