using DeepSeekMesh.Contracts.Placement;
using Orleans.Runtime;

namespace DeepSeekMesh.Silo.Plan;

/// <summary>A plan with its silo addresses parsed once.</summary>
public sealed class PlanView(ExpertPlacementPlan plan)
{
    public ExpertPlacementPlan Plan { get; } = plan;

    /// <summary><see cref="ExpertPlacementPlan.IsComplete"/>, computed once (it walks every expert).</summary>
    public bool IsComplete { get; } = plan.IsComplete;

    /// <summary>Silo slot → address.</summary>
    public SiloAddress[] Silos { get; } = plan.Silos.Select(SiloAddress.FromParsableString).ToArray();

    public SiloAddress? SiloOf(int layer, int expert, int replica)
    {
        var replicas = Plan.ReplicasOf(layer, expert);
        return (uint)replica < (uint)replicas.Length ? Silos[replicas[replica]] : null;
    }
}
