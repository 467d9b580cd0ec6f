using DeepSeekMesh.Contracts;
using DeepSeekMesh.Silo.Plan;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace DeepSeekMesh.Silo.Placement;

/// <summary>Places an expert grain ("layer/expert/replica") on the silo the placement plan names.</summary>
public sealed class ExpertPlanPlacement : PlacementStrategy
{
    public static ExpertPlanPlacement Singleton { get; } = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ExpertPlanPlacementAttribute() : PlacementAttribute(ExpertPlanPlacement.Singleton);

/// <summary>
/// The plan's silo when it is among the compatible (live, expert-role) silos; otherwise — no plan
/// yet, or the plan names a silo that just left — a random compatible silo, as Orleans' default.
/// </summary>
public sealed class ExpertPlanPlacementDirector(ExpertPlanCache plans) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        if (compatible.Length == 0) throw new OrleansException($"no expert silo can host {target.GrainIdentity}");
        if (plans.View is { } view && target.GrainIdentity.Key.ToString() is { } key)
        {
            try
            {
                var (layer, expert, replica) = ExpertKey.Parse(key);
                if (view.SiloOf(layer, expert, replica) is { } planned && Array.IndexOf(compatible, planned) >= 0)
                    return Task.FromResult(planned);
            }
            catch (FormatException) { } // the grain rejects its own bad key on activation
        }
        return Task.FromResult(compatible[Random.Shared.Next(compatible.Length)]);
    }
}
