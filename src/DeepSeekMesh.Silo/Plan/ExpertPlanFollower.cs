using DeepSeekMesh.Contracts;
using DeepSeekMesh.Contracts.Placement;
using DeepSeekMesh.Silo.Experts;
using DeepSeekMesh.Silo.Mesh;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace DeepSeekMesh.Silo.Plan;

/// <summary>
/// Keeps this silo on the model's placement plan: syncs <see cref="ExpertPlanCache"/> from the plan
/// grain every follow period (reporting the version it follows), and on expert silos tells each
/// hosted expert grain the plan moved or dropped to follow it (they migrate). When an expert silo
/// stops (SIGTERM, scale-in, rolling update) it drains first: it asks the plan grain to move its
/// experts away, waits until every frontend follows that plan and its last batch is answered, then
/// lets the silo stop — no caller needs a retry.
/// </summary>
public sealed class ExpertPlanFollower(ExpertPlanCache cache, LocalExperts local, SiloActivity activity, IGrainFactory grains,
    ILocalSiloDetails silo, IOptions<MeshSiloOptions> options, ILogger<ExpertPlanFollower> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    readonly MeshSiloOptions _options = options.Value;
    readonly CancellationTokenSource _stop = new();
    Task? _loop;

    /// <summary>True once this silo started draining.</summary>
    public bool Draining { get; private set; }

    string? _me;

    string Me => _me ??= silo.SiloAddress.ToParsableString();

    IExpertPlanGrain PlanGrain => grains.GetGrain<IExpertPlanGrain>(_options.EffectiveModelId);

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(ExpertPlanFollower), ServiceLifecycleStage.Active + 1, Start, Stop);

    Task Start(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => Follow(_stop.Token));
        return Task.CompletedTask;
    }

    async Task Follow(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(_options.Plan.FollowPeriod);
        do
        {
            try
            {
                await SyncOnce().WaitAsync(TimeSpan.FromSeconds(10), stop);
            }
            catch (Exception e) when (!stop.IsCancellationRequested)
            {
                logger.LogDebug("plan sync failed: {Error}", e.Message);
            }
        }
        while (await WaitTick(timer, stop));
    }

    static async Task<bool> WaitTick(PeriodicTimer timer, CancellationToken stop)
    {
        try { return await timer.WaitForNextTickAsync(stop); }
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>One round: fetch a newer plan (or offer ours to a restarted plan grain) and follow it.</summary>
    public async Task SyncOnce()
    {
        var sync = await PlanGrain.Sync(Me, cache.Version);
        if (sync.WantsPlan && cache.Current is { } mine) await PlanGrain.Offer(mine);
        if (sync.Plan is { } plan && cache.Update(plan, out _)) logger.LogInformation("following {Plan}", plan);
        // Every round, not only on a change: a move can wait until this silo sees the target silo join.
        if (_options.Role.HostsExperts() && cache.Current is { } current) await MoveExperts(current);
    }

    /// <summary>Hosted replicas the plan puts elsewhere (or dropped) follow it; replicas that never ran anywhere activate on first use.</summary>
    async Task MoveExperts(ExpertPlacementPlan plan)
    {
        if (!plan.IsComplete) return;
        var me = Me;
        var leaving = local.Hosted.Where(r => plan.SiloOf(r.Layer, r.Expert, r.Replica) != me).ToList();
        if (leaving.Count == 0) return;
        logger.LogDebug("{Count} expert replicas on this silo follow plan v{Version} elsewhere", leaving.Count, plan.Version);
        foreach (var chunk in leaving.Chunk(64))
            await Task.WhenAll(chunk.Select(r => grains.GetExpertGrain(r.Layer, r.Expert, r.Replica).FollowPlan()));
    }

    async Task Stop(CancellationToken cancellationToken)
    {
        _stop.Cancel();
        if (_loop is not null) await _loop;
        if (_options.Role == SiloRole.Expert) await Drain(cancellationToken);
    }

    async Task Drain(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _options.Plan.DrainTimeout;
        Draining = true;
        try
        {
            await PlanGrain.Drain(Me).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            await SyncOnce();
            if (cache.Current is { } plan && plan.Silos.Contains(Me))
            {
                logger.LogWarning("no other expert silo to drain to: stopping with {Count} experts", local.Count);
                return;
            }
            var quietSince = DateTime.MaxValue;
            while (DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                await SyncOnce();
                bool drained = await PlanGrain.IsDrained(Me);
                bool quiet = activity.BatchesInFlight == 0;
                if (drained && quiet)
                {
                    if (quietSince == DateTime.MaxValue) quietSince = DateTime.UtcNow;
                    // every frontend follows the plan without this silo; one more follow period covers a step already dispatched by the old one
                    if (DateTime.UtcNow - quietSince >= _options.Plan.FollowPeriod && local.Count == 0) break;
                    
                }
                else quietSince = DateTime.MaxValue;
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
            logger.LogInformation("drained: {Count} experts left, {InFlight} batches in flight", local.Count, activity.BatchesInFlight);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("drain incomplete: {Error}", e.Message);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("drain cut short by the shutdown timeout");
        }
    }
}
