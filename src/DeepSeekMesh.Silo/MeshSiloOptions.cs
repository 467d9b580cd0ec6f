using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model;
using DeepSeekMesh.Model.Engine;

namespace DeepSeekMesh.Silo;

/// <summary>What a mesh silo serves and how.</summary>
public sealed record MeshSiloOptions
{
    public SiloRole Role { get; init; } = SiloRole.All;

    /// <summary>The HuggingFace model directory (config.json + safetensors). Every silo reads only what its role needs.</summary>
    public string ModelDirectory { get; init; } = "";

    /// <summary>Names the model in metrics and keys the <see cref="IExpertStatsGrain"/>; default: the directory's name.</summary>
    public string? ModelId { get; init; }

    public string EffectiveModelId => ModelId ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(ModelDirectory)));

    public ModelOptions Model { get; init; } = new();

    public EngineOptions Engine { get; init; } = new();

    /// <summary>How expert rows travel: F32 (exactly the single process) or BF16 (half the bytes).</summary>
    public RowDtype WireDtype { get; init; } = RowDtype.F32;

    public ExpertCallPolicy ExpertCalls { get; init; } = new();

    /// <summary>
    /// How often a completion grain checks that a generation runs, and leaves when none does: one never
    /// started (the gateway asks where the grain lives first, and its client may go away in between) or
    /// one that ended. Without it such a grain stayed for Orleans' collection age (15 minutes of state
    /// and timers).
    /// </summary>
    public TimeSpan CompletionStartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often router grains report per-expert token counts to the stats grain.</summary>
    public TimeSpan LoadReportPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Membership settings measured to detect a dead silo in ~1 s (ENVIRONMENT.md) instead of the
    /// default ~13 s, so an expert silo's grains re-activate elsewhere quickly.
    /// </summary>
    public bool FastFailureDetection { get; init; } = true;

    /// <summary>How many routed experts (replicas) this expert silo may host; null = unlimited (<c>--expert-capacity</c>).</summary>
    public int? ExpertCapacity { get; init; }

    public ExpertPlanOptions Plan { get; init; } = new();
}

/// <summary>How the expert placement plan is kept and followed.</summary>
public sealed record ExpertPlanOptions
{
    /// <summary>How often the plan grain checks membership (joins, leaves, drains replan at the next check).</summary>
    public TimeSpan CheckPeriod { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often every silo syncs its copy of the plan (frontends dispatch by it, expert silos move grains by it).</summary>
    public TimeSpan FollowPeriod { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The least time between two replans for load alone (membership changes replan at once).</summary>
    public TimeSpan RebalancePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The window of measured per-expert load the plan balances by.</summary>
    public TimeSpan LoadWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a stopping expert silo waits for its experts to move away before it exits anyway.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Hot-expert threshold, replica cap, balance tolerance.</summary>
    public DeepSeekMesh.Contracts.Placement.ExpertPlannerOptions Planner { get; init; } = new();
}

/// <summary>
/// Retries of a failed expert call. Expert forward is a pure function, so a call that failed
/// because its silo died is simply sent again; the grain re-activates on a live expert silo once
/// membership declares the old one dead.
/// </summary>
public sealed record ExpertCallPolicy
{
    /// <summary>Attempts per call, the first included.</summary>
    public int MaxAttempts { get; init; } = 12;
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(25);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);
}
