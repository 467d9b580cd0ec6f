using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Model.Weights;
using DeepSeekMesh.Silo.Mesh;
using DeepSeekMesh.Silo.Placement;
using Orleans.Concurrency;
using static TorchSharp.torch;

namespace DeepSeekMesh.Silo.Frontend;

/// <summary>
/// The router of one MoE layer (key: layer index). A stateless worker, so each frontend silo runs
/// its own activation next to its engine (no network hop); it owns the layer's <see cref="Gate"/>
/// and counts tokens per expert, reported to the model's <see cref="IExpertStatsGrain"/>.
/// </summary>
[StatelessWorker(1)]
[FrontendSilosOnly]
[GrainType("dsm-router")]
public sealed class RouterGrain(ModelStore store, SiloActivity activity) : Grain, IRouterGrain
{
    Gate? _gate;
    int _layer;
    long[] _counts = [];
    bool _dirty;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _layer = checked((int)this.GetPrimaryKeyLong());
        var config = store.Config;
        if (_layer < 0 || _layer >= config.NumHiddenLayers || !config.IsMoeLayer(_layer))
            throw new ArgumentException($"layer {_layer} is not a MoE layer of this model");
        try
        {
            _gate = Gate.Load(store.Context, _layer);
        }
        catch (Exception e) when (e is WeightFormatException or ModelConfigException)
        {
            throw new InvalidOperationException($"router {_layer} cannot load: {e.Message}");
        }
        _counts = new long[config.NRoutedExperts];
        activity.RouterActivated(_layer);
        var period = store.Options.LoadReportPeriod;
        this.RegisterGrainTimer(Report, period, period);
        return Task.CompletedTask;
    }

    public Task<Routing> Route(TokenRows rows)
    {
        if (rows.Columns != store.Config.HiddenSize)
            throw new ArgumentException($"router {_layer} takes rows of {store.Config.HiddenSize} values, got {rows.Columns}");
        var options = store.Options.Model;
        using var scope = NewDisposeScope();
        var x = RowCodec.ToTensor(rows, options.ComputeDtype, options.Device); // [T, hidden]
        var (weights, indices) = _gate!.Route(x); // [T, k], [T, k]
        var w = TensorData.ToArray<float>(weights.to(ScalarType.Float32));
        var chosen = TensorData.ToArray<long>(indices);
        var ids = new int[chosen.Length];
        for (int i = 0; i < chosen.Length; i++)
        {
            ids[i] = (int)chosen[i];
            _counts[ids[i]]++;
        }
        _dirty = true;
        activity.Routed(rows.Rows);
        return Task.FromResult(new Routing { Tokens = rows.Rows, TopK = (int)indices.shape[1], Weights = w, Indices = ids });
    }

    /// <summary>
    /// Sends the counts to the stats grain WITHOUT awaiting it in this grain's turn: a timer's turn
    /// holds the router, and the stats grain may live on a silo that just died, whose address Orleans
    /// keeps retrying for seconds — the engine, blocked on <see cref="Route"/>, would stop every
    /// sequence meanwhile (seen under kill -9 of an expert silo). A lost report only ages the load window.
    /// </summary>
    Task Report()
    {
        if (!_dirty) return Task.CompletedTask;
        var report = new ExpertLoadReport { Layer = _layer, Tokens = _counts };
        _counts = new long[_counts.Length];
        _dirty = false;
        var stats = GrainFactory.GetGrain<IExpertStatsGrain>(store.Options.EffectiveModelId);
        _ = Task.Run(async () =>
        {
            try { await stats.Report(report); }
            catch (Exception) { } // the next period's report carries on
        });
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        try
        {
            await Report();
        }
        finally
        {
            if (_gate is not null) activity.RouterDeactivated(_layer);
            _gate?.Dispose();
            _gate = null;
        }
    }
}
