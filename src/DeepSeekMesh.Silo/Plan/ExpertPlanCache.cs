using DeepSeekMesh.Contracts.Placement;
using Orleans.Runtime;

namespace DeepSeekMesh.Silo.Plan;

/// <summary>
/// This silo's copy of the model's expert placement plan, kept current by the
/// <see cref="ExpertPlanFollower"/>: the placement director and the frontend's dispatcher read it.
/// </summary>
public sealed class ExpertPlanCache
{
    volatile PlanView? _view;

    /// <summary>The plan in force here; null until the first sync.</summary>
    public ExpertPlacementPlan? Current => _view?.Plan;

    public PlanView? View => _view;

    public long Version => _view?.Plan.Version ?? 0;

    /// <summary>Adopts <paramref name="plan"/> when it is newer; returns the plan it replaced (or null when it was not newer).</summary>
    public bool Update(ExpertPlacementPlan plan, out ExpertPlacementPlan? replaced)
    {
        lock (this)
        {
            replaced = _view?.Plan;
            if (replaced is not null && plan.Version <= replaced.Version) return false;
            _view = new PlanView(plan);
            return true;
        }
    }
}

/// <summary>A plan with its silo addresses parsed once.</summary>
public sealed class PlanView(ExpertPlacementPlan plan)
{
    public ExpertPlacementPlan Plan { get; } = plan;

    /// <summary>Silo slot → address.</summary>
    public SiloAddress[] Silos { get; } = plan.Silos.Select(SiloAddress.FromParsableString).ToArray();

    public SiloAddress? SiloOf(int layer, int expert, int replica)
    {
        var replicas = Plan.ReplicasOf(layer, expert);
        return (uint)replica < (uint)replicas.Length ? Silos[replicas[replica]] : null;
    }
}
