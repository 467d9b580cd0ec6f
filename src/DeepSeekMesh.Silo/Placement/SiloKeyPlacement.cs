using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace DeepSeekMesh.Silo.Placement;

/// <summary>Places a grain keyed by a silo address (<c>SiloAddress.ToParsableString()</c>) on that silo.</summary>
public sealed class SiloKeyPlacement : PlacementStrategy
{
    public static SiloKeyPlacement Singleton { get; } = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class SiloKeyPlacementAttribute() : PlacementAttribute(SiloKeyPlacement.Singleton);

/// <summary>
/// The keyed silo when it is live; otherwise (it left, or the placing silo does not know it yet) this
/// silo or a random one — the grain notices it is misplaced and deactivates when idle. Live means
/// active in this silo's membership view, even before this silo has fetched the keyed silo's grain
/// manifest (every mesh silo hosts these grains): in 2 of 5 full CI runs a silo's agent kept being
/// placed elsewhere for over 90 s because the placing silo's manifest did not list the keyed silo yet.
/// </summary>
public sealed class SiloKeyPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var compatible = context.GetCompatibleSilos(target);
        try
        {
            var keyed = SiloAddress.FromParsableString(target.GrainIdentity.Key.ToString()!);
            if (Array.IndexOf(compatible, keyed) >= 0) return Task.FromResult(keyed);
            if (membership.CurrentSnapshot.GetSiloStatus(keyed) == SiloStatus.Active) return Task.FromResult(keyed);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or IndexOutOfRangeException) { }
        if (Array.IndexOf(compatible, context.LocalSilo) >= 0) return Task.FromResult(context.LocalSilo);
        return Task.FromResult(compatible[Random.Shared.Next(compatible.Length)]);
    }
}
