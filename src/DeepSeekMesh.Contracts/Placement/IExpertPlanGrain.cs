namespace DeepSeekMesh.Contracts.Placement;

/// <summary>
/// Owns the model's expert placement plan (key: model id): recomputes it when expert silos join,
/// drain or leave and when measured load drifts, and publishes it by version. Every silo follows it
/// through <see cref="Sync"/>; expert grains are placed where it says; frontends dispatch by it.
/// </summary>
[Alias("dsm.IExpertPlanGrain")]
public interface IExpertPlanGrain : IGrainWithStringKey
{
    /// <summary>
    /// The plan when it is newer than <paramref name="knownVersion"/>; records that
    /// <paramref name="silo"/> follows <paramref name="knownVersion"/> (drains wait for that).
    /// </summary>
    [Alias("Sync")]
    Task<PlanSync> Sync(string silo, long knownVersion);

    /// <summary>A follower's plan, offered when this grain (re)started without one (<see cref="PlanSync.WantsPlan"/>): keeps placements stable across a move of this grain.</summary>
    [Alias("Offer")]
    Task Offer(ExpertPlacementPlan plan);

    /// <summary>Marks an expert silo draining and replans at once without it; returns the version that excludes it.</summary>
    [Alias("Drain")]
    Task<long> Drain(string silo);

    /// <summary>True once every live frontend follows a plan version that places nothing on <paramref name="silo"/>.</summary>
    [Alias("IsDrained")]
    Task<bool> IsDrained(string silo);

    /// <summary>Recomputes the plan now (membership and load as they are) and returns it.</summary>
    [Alias("Replan")]
    Task<ExpertPlacementPlan> Replan();

    [Alias("Status")]
    Task<ExpertPlanStatus> Status();
}

/// <summary>The answer to <see cref="IExpertPlanGrain.Sync"/>.</summary>
[GenerateSerializer, Immutable, Alias("dsm.PlanSync")]
public sealed class PlanSync
{
    /// <summary>The plan, when newer than the caller's; else null.</summary>
    [Id(0)] public ExpertPlacementPlan? Plan { get; init; }
    /// <summary>The grain has no plan yet but the caller has one: offer it (<see cref="IExpertPlanGrain.Offer"/>).</summary>
    [Id(1)] public bool WantsPlan { get; init; }
}

/// <summary>The plan grain's state, for /v1/mesh and metrics.</summary>
[GenerateSerializer, Immutable, Alias("dsm.ExpertPlanStatus")]
public sealed class ExpertPlanStatus
{
    [Id(0)] public long Version { get; init; }
    /// <summary>Replica moves (a replica placed on a silo it was not on) since the grain started.</summary>
    [Id(1)] public long Moves { get; init; }
    [Id(2)] public int Silos { get; init; }
    [Id(3)] public int Replicas { get; init; }
    /// <summary>Silos marked draining.</summary>
    [Id(4)] public string[] Draining { get; init; } = [];
    /// <summary>Busiest silo's expected rows over the mean, the worst MoE layer, under the last measured load (1 = even).</summary>
    [Id(5)] public double Imbalance { get; init; }
}
