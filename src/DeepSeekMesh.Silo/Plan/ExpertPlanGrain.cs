using DeepSeekMesh.Contracts;
using DeepSeekMesh.Contracts.Placement;
using DeepSeekMesh.Silo.Mesh;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace DeepSeekMesh.Silo.Plan;

/// <summary>
/// Holds and publishes the model's expert placement plan (key: model id). Each check it reads the
/// live expert silos (membership, role and capacity metadata) and the draining ones; a change
/// replans at once, measured load (the stats grain's recent window) at most every rebalance period.
/// The math is <see cref="ExpertPlanner"/>'s. In memory: when this grain moves, the first follower
/// that still has the plan offers it back, so placements stay where they are.
/// </summary>
[GrainType("dsm-expert-plan")]
public sealed class ExpertPlanGrain(ModelStore store, IClusterMembershipService membership, ISiloMetadataCache metadata,
    TimeProvider clock, ILogger<ExpertPlanGrain> logger) : Grain, IExpertPlanGrain
{
    /// <summary>The silo metadata key of an expert silo's declared capacity (experts).</summary>
    public const string CapacityMetadataKey = "expert-capacity";

    readonly ExpertPlanner _planner = new(store.Options.Plan.Planner);
    readonly HashSet<string> _draining = new();
    readonly Dictionary<string, long> _following = new();
    ExpertPlacementPlan? _plan;
    DateTimeOffset _activated, _lastLoadPlan = DateTimeOffset.MinValue;
    long _moves;
    double _imbalance = 1;
    bool _offered;

    ExpertPlanOptions Options => store.Options.Plan;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _activated = clock.GetUtcNow();
        this.RegisterGrainTimer(() => Check(force: false), Options.CheckPeriod, Options.CheckPeriod);
        return Task.CompletedTask;
    }

    public Task<PlanSync> Sync(string silo, long knownVersion)
    {
        _following[silo] = knownVersion;
        if (_plan is null || _plan.Version < knownVersion)
            return Task.FromResult(new PlanSync { WantsPlan = knownVersion > 0 });
        return Task.FromResult(new PlanSync { Plan = _plan.Version > knownVersion ? _plan : null });
    }

    public async Task Offer(ExpertPlacementPlan plan)
    {
        if (_plan is not null && _plan.Version >= plan.Version) return;
        logger.LogInformation("adopting {Plan} from a follower", plan);
        _plan = plan;
        _offered = true;
        await Check(force: true);
    }

    public async Task<long> Drain(string silo)
    {
        if (_draining.Add(silo)) logger.LogInformation("expert silo {Silo} drains", silo);
        await Check(force: true);
        return _plan?.Version ?? 0;
    }

    public Task<bool> IsDrained(string silo)
    {
        if (_plan is null || !_draining.Contains(silo) || _plan.Silos.Contains(silo)) return Task.FromResult(false);
        var frontends = Members().Where(m => m.Role is SiloRoles.Frontend or SiloRoles.All && m.Address != silo);
        return Task.FromResult(frontends.All(f => _following.GetValueOrDefault(f.Address) >= _plan.Version));
    }

    public async Task<ExpertPlacementPlan> Replan()
    {
        await Check(force: true);
        return _plan!;
    }

    public Task<ExpertPlanStatus> Status() => Task.FromResult(new ExpertPlanStatus
    {
        Version = _plan?.Version ?? 0,
        Moves = _moves,
        Silos = _plan?.Silos.Length ?? 0,
        Replicas = _plan?.Replicas.Sum(r => r.Length) ?? 0,
        Draining = _draining.Order(StringComparer.Ordinal).ToArray(),
        Imbalance = _imbalance,
    });

    /// <summary>Live silos with their role and capacity metadata (a silo whose metadata has not arrived yet is left out until it does).</summary>
    List<(string Address, string Role, int? Capacity)> Members()
    {
        var members = new List<(string, string, int?)>();
        foreach (var (address, member) in membership.CurrentSnapshot.Members)
        {
            if (member.Status != SiloStatus.Active) continue;
            var data = metadata.GetSiloMetadata(address).Metadata;
            if (!data.TryGetValue(SiloRoles.MetadataKey, out var role)) continue;
            int? capacity = data.TryGetValue(CapacityMetadataKey, out var c) && int.TryParse(c, out var n) ? n : null;
            members.Add((address.ToParsableString(), role, capacity));
        }
        return members;
    }

    async Task Check(bool force)
    {
        var now = clock.GetUtcNow();
        // A fresh activation waits a moment for a follower to offer the plan in force.
        if (_plan is null && !_offered && !force && now - _activated < 2 * Options.FollowPeriod) return;
        var members = Members();
        var live = members.Select(m => m.Address).ToHashSet();
        _draining.RemoveWhere(s => !live.Contains(s));
        foreach (var gone in _following.Keys.Where(s => !live.Contains(s)).ToList()) _following.Remove(gone);
        var silos = members.Where(m => m.Role is SiloRoles.Expert or SiloRoles.All)
            .Select(m => new PlannedSilo(m.Address, m.Capacity, _draining.Contains(m.Address))).ToList();
        var eligible = silos.Where(s => !s.Draining).Select(s => s.Address).Order(StringComparer.Ordinal).ToArray();
        if (eligible.Length == 0) eligible = silos.Select(s => s.Address).Order(StringComparer.Ordinal).ToArray(); // as the planner does
        bool membershipChanged = _plan is null || !eligible.SequenceEqual(_plan.Silos);
        bool loadDue = now - _lastLoadPlan >= Options.RebalancePeriod;
        if (!force && !membershipChanged && !loadDue) return;

        IReadOnlyDictionary<int, long[]>? load = null;
        try
        {
            load = (await GrainFactory.GetGrain<IExpertStatsGrain>(store.Options.EffectiveModelId).GetRecentLoad(Options.LoadWindow)).TokensPerExpert;
        }
        catch (Exception e)
        {
            logger.LogDebug("expert load not read: {Error}", e.Message);
        }
        if (loadDue) _lastLoadPlan = now;
        var config = store.Config;
        var layers = Enumerable.Range(0, config.NumHiddenLayers).Where(config.IsMoeLayer).ToArray();
        var next = _planner.Plan(layers, config.NRoutedExperts, silos, load, _plan, (_plan?.Version ?? 0) + 1);
        _imbalance = Imbalance(next, load);
        if (_plan is not null && _plan.Silos.SequenceEqual(next.Silos) && _plan.SamePlacement(next)) return;
        int moves = ExpertPlacementPlan.Moves(_plan, next);
        _moves += _plan is null ? 0 : moves;
        logger.LogInformation("{Plan} ({Moves} replicas placed anew; {Draining} draining)", next, moves, _draining.Count);
        _plan = next;
    }

    /// <summary>Busiest silo's expected rows over the mean, worst layer, under <paramref name="load"/>.</summary>
    static double Imbalance(ExpertPlacementPlan plan, IReadOnlyDictionary<int, long[]>? load)
    {
        if (load is null || plan.Silos.Length == 0) return 1;
        double worst = 1;
        foreach (var (layer, counts) in load)
        {
            var rows = new double[plan.Silos.Length];
            for (int e = 0; e < Math.Min(counts.Length, plan.ExpertsPerLayer); e++)
            {
                var replicas = plan.ReplicasOf(layer, e);
                foreach (var s in replicas) rows[s] += (double)counts[e] / replicas.Length;
            }
            double mean = rows.Average();
            if (mean > 0) worst = Math.Max(worst, rows.Max() / mean);
        }
        return worst;
    }
}
