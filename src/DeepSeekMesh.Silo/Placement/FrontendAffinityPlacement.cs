using DeepSeekMesh.Contracts;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace DeepSeekMesh.Silo.Placement;

/// <summary>
/// Session affinity (<see cref="FrontendAffinity"/>): when the request that activates the grain carries a
/// prompt-prefix key, keeps only the candidate silo that ranks highest for it. Runs after the role filter.
/// </summary>
public sealed class FrontendAffinityFilterStrategy : PlacementFilterStrategy
{
    /// <summary>Used by the runtime.</summary>
    public FrontendAffinityFilterStrategy() : this(1) { }

    public FrontendAffinityFilterStrategy(int order) : base(order) { }
}

/// <summary>Places the grain class on the frontend its prompt prefix has affinity with (see <see cref="FrontendAffinity"/>).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class FrontendAffinityAttribute() : PlacementFilterAttribute(new FrontendAffinityFilterStrategy(order: 1));

/// <summary>Narrows the candidates to the one that ranks highest for the request's prefix key; without a key, keeps them all.</summary>
public sealed class FrontendAffinityFilterDirector : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var candidates = silos.ToArray();
        if (candidates.Length < 2 || target.RequestContextData is not { } data
            || !data.TryGetValue(FrontendAffinity.RequestContextKey, out var value) || value is not long key)
            return candidates;
        return [candidates.MaxBy(s => FrontendAffinity.Rank(key, s.ToParsableString()))!];
    }
}
