using System.Diagnostics.Metrics;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Contracts.Placement;
using DeepSeekMesh.Silo.Experts;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.ServiceDefaults;
using DeepSeekMesh.Silo.Mesh;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using N = DeepSeekMesh.ServiceDefaults.MeshMetricNames;

namespace DeepSeekMesh.Silo.Hosting;

/// <summary>
/// The mesh's metrics on one silo, as observable instruments over counters the silo keeps anyway:
/// on frontends the engine's <see cref="Model.Engine.InferenceEngine.Stats"/>, the
/// <see cref="ExpertDispatcher"/>'s traffic, the model's per-expert load (polled from its
/// <see cref="IExpertStatsGrain"/>) and placement plan; on expert silos the calls and rows they served.
/// </summary>
public sealed class MeshMetrics : BackgroundService
{
    readonly MeshFrontend _frontend;
    readonly SiloActivity _activity;
    readonly LocalExperts _local;
    readonly IGrainFactory _grains;
    readonly MeshSiloOptions _options;
    readonly ILogger<MeshMetrics> _logger;
    readonly Meter _meter;
    volatile ExpertLoad? _load;
    volatile ExpertPlanStatus? _plan;

    /// <summary>How often the per-expert load is read from the stats grain.</summary>
    public static TimeSpan LoadPollPeriod { get; set; } = TimeSpan.FromSeconds(5);

    public MeshMetrics(MeshFrontend frontend, SiloActivity activity, LocalExperts local, IGrainFactory grains, IOptions<MeshSiloOptions> options,
        IMeterFactory meterFactory, ILogger<MeshMetrics> logger)
    {
        _frontend = frontend;
        _activity = activity;
        _local = local;
        _grains = grains;
        _options = options.Value;
        _logger = logger;
        _meter = meterFactory.Create(Telemetry.MeterName);
        if (_options.Role.ServesCompletions()) CreateFrontendInstruments();
        if (_options.Role.HostsExperts()) CreateExpertInstruments();
    }

    void CreateFrontendInstruments()
    {
        _meter.CreateObservableUpDownCounter(N.SequencesRunning, () => FromEngine(s => s.Running), "{sequence}", "Sequences being generated (admitted to the running batch)");
        _meter.CreateObservableUpDownCounter(N.SequencesWaiting, () => FromEngine(s => s.Waiting), "{sequence}", "Sequences queued for admission (waiting for KV cache blocks or a batch slot)");
        _meter.CreateObservableUpDownCounter(N.KvCacheBlocksUsed, () => FromEngine(s => s.CacheBlocksUsed), "{block}", "Paged KV cache blocks in use");
        _meter.CreateObservableUpDownCounter(N.KvCacheBlocksLimit, () => FromEngine(s => s.CacheBlocksTotal), "{block}", "Paged KV cache blocks in all");
        _meter.CreateObservableGauge<double>(N.KvCacheUtilization, () => Engine() is { CacheBlocksTotal: > 0 } s ? [new Measurement<double>((double)s.CacheBlocksUsed / s.CacheBlocksTotal)] : [],
            "1", "Fraction of the KV cache's blocks in use");
        _meter.CreateObservableCounter(N.EngineSteps, () => FromEngine(s => s.StepsRun), "{step}", "Batched forward steps run by the engine");
        _meter.CreateObservableCounter(N.EngineTokens, () => FromEngine(s => s.TokensGenerated), "{token}", "Tokens sampled by the engine");
        _meter.CreateObservableCounter(N.PrefixCacheQueries, () => FromEngine(s => s.PromptTokens), "{token}", "Prompt tokens of admitted requests, looked up in the prefix cache");
        _meter.CreateObservableCounter(N.PrefixCacheHits, () => FromEngine(s => s.CachedPromptTokens), "{token}", "Prompt tokens read from the prefix cache instead of computed");

        _meter.CreateObservableCounter(N.ExpertCalls, () => FromTraffic(t => t.Calls), "{call}", "Routed-expert messages sent (one per expert silo per MoE layer step)");
        _meter.CreateObservableCounter(N.ExpertRows, () => FromTraffic(t => t.Rows), "{row}", "Token rows sent to routed experts");
        _meter.CreateObservableGauge<double>(N.ExpertRowsPerCall, () => Traffic() is { Calls: > 0 } t ? [new Measurement<double>((double)t.Rows / t.Calls)] : [],
            "{row}", "Mean token rows per routed-expert call since start (rate(rows)/rate(calls) for a window)");
        _meter.CreateObservableCounter(N.ExpertRetries, () => FromTraffic(t => t.Retries), "{retry}", "Routed-expert calls retried after a transport or silo failure");
        _meter.CreateObservableCounter<double>(N.ExpertWaitTime, () => Traffic() is { } t ? [new Measurement<double>(t.WaitTime.TotalSeconds)] : [],
            "s", "Time the engine blocked waiting for routed-expert results after its shared experts were done");
        _meter.CreateObservableCounter<long>(N.ExpertNetworkIo, () => Traffic() is { } t
            ? [new Measurement<long>(t.BytesSent, new KeyValuePair<string, object?>("network.io.direction", "transmit")),
               new Measurement<long>(t.BytesReceived, new KeyValuePair<string, object?>("network.io.direction", "receive"))]
            : [], "By", "Row payload bytes sent to and received from routed experts");
        _meter.CreateObservableCounter(N.RoutedTokens, () => _activity.RoutedTokens, "{token}", "Tokens routed by this silo's router grains");

        _meter.CreateObservableCounter(N.ExpertLoad, ObserveLoad, "{token}", "Tokens routed to each routed expert (attributes dsmesh.layer, dsmesh.expert), cluster-wide");
        _meter.CreateObservableGauge(N.ExpertLoadImbalance, ObserveImbalance, "1", "Per MoE layer: tokens of the busiest expert over the mean tokens per expert (1 = balanced)");
        _meter.CreateObservableGauge(N.PlanVersion, () => _plan is { } p ? [new Measurement<long>(p.Version)] : Array.Empty<Measurement<long>>(), "{version}", "Version of the expert placement plan");
        _meter.CreateObservableCounter(N.PlanMoves, () => _plan is { } p ? [new Measurement<long>(p.Moves)] : Array.Empty<Measurement<long>>(), "{replica}", "Expert replicas placed on a new silo by plan changes");
        _meter.CreateObservableGauge(N.PlanImbalance, () => _plan is { } p ? [new Measurement<double>(p.Imbalance)] : Array.Empty<Measurement<double>>(), "1",
            "Expected rows of the busiest expert silo over the mean, worst MoE layer, under the recent load (1 = balanced)");
    }

    void CreateExpertInstruments()
    {
        _meter.CreateObservableCounter(N.ExpertServedCalls, () => _activity.ExpertCalls, "{call}", "Routed-expert computations (one expert's rows of one message) served by this silo");
        _meter.CreateObservableCounter(N.ExpertServedRows, () => _activity.ExpertRows, "{row}", "Token rows computed by this silo's expert grains");
        _meter.CreateObservableUpDownCounter(N.ExpertActivations, () => _activity.ExpertActivations, "{activation}", "Expert grains active on this silo");
        _meter.CreateObservableUpDownCounter(N.ExpertResidentBytes, () => _local.Bytes, "By", "Bytes of routed-expert weights resident on this silo");
        _meter.CreateObservableCounter(N.ExpertForwardedRows, () => _activity.ForwardedRows, "{row}",
            "Rows that reached this silo for an expert replica not active here and took an extra hop (a stale plan, a first use)");
    }

    IEnumerable<Measurement<T>> FromEngine<T>(Func<Model.Engine.EngineStats, T> read) where T : struct =>
        Engine() is { } s ? [new Measurement<T>(read(s))] : [];

    IEnumerable<Measurement<T>> FromTraffic<T>(Func<ExpertTrafficStats, T> read) where T : struct =>
        Traffic() is { } t ? [new Measurement<T>(read(t))] : [];

    /// <summary>The engine's stats once it is loaded (never loads it: reading the engine before that would).</summary>
    Model.Engine.EngineStats? Engine()
    {
        if (!_frontend.Enabled || _frontend.ExpertTraffic is null) return null;
        try { return _frontend.Engine.Stats; }
        catch (ObjectDisposedException) { return null; }
    }

    ExpertTrafficStats? Traffic() => _frontend.Enabled ? _frontend.ExpertTraffic : null;

    IEnumerable<Measurement<long>> ObserveLoad()
    {
        if (_load is not { } load) yield break;
        foreach (var (layer, tokens) in load.TokensPerExpert)
            for (int e = 0; e < tokens.Length; e++)
                yield return new Measurement<long>(tokens[e],
                    new KeyValuePair<string, object?>("dsmesh.layer", layer), new KeyValuePair<string, object?>("dsmesh.expert", e));
    }

    IEnumerable<Measurement<double>> ObserveImbalance()
    {
        if (_load is not { } load) yield break;
        foreach (var (layer, tokens) in load.TokensPerExpert)
        {
            if (tokens.Length == 0) continue;
            double mean = tokens.Average(t => (double)t);
            if (mean <= 0) continue;
            yield return new Measurement<double>(tokens.Max() / mean, new KeyValuePair<string, object?>("dsmesh.layer", layer));
        }
    }

    /// <summary>Frontends poll the model's expert stats grain (cluster-wide per-expert token counts) for the load metrics.</summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Role.ServesCompletions()) return;
        using var timer = new PeriodicTimer(LoadPollPeriod);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    _load = await _grains.GetGrain<IExpertStatsGrain>(_options.EffectiveModelId).GetLoad().WaitAsync(TimeSpan.FromSeconds(10), stoppingToken);
                    _plan = await _grains.GetGrain<IExpertPlanGrain>(_options.EffectiveModelId).Status().WaitAsync(TimeSpan.FromSeconds(10), stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    _logger.LogDebug("expert load not read: {Error}", e.Message);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }
}
