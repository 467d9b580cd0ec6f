using DeepSeekMesh.Contracts.Placement;

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
