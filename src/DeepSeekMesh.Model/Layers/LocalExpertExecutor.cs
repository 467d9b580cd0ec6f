using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>Routed experts held in this process: <c>model.layers.L.mlp.experts.E</c> as SwiGLU MLPs.</summary>
public sealed class LocalExpertExecutor : IExpertExecutor
{
    readonly Dictionary<(int Layer, int Expert), Mlp> _experts = new();

    public static LocalExpertExecutor Load(LoadContext ctx, Action<int>? progress = null)
    {
        var c = ctx.Config;
        var executor = new LocalExpertExecutor();
        for (int layer = 0; layer < c.NumHiddenLayers; layer++)
        {
            if (!c.IsMoeLayer(layer)) continue;
            for (int e = 0; e < c.NRoutedExperts; e++)
                executor._experts[(layer, e)] = LoadExpert(ctx, layer, e);
            progress?.Invoke(layer);
        }
        return executor;
    }

    public static Mlp LoadExpert(LoadContext ctx, int layer, int expert) =>
        Mlp.Load(ctx, $"model.layers.{layer}.mlp.experts.{expert}", ctx.Config.HiddenSize, ctx.Config.MoeIntermediateSize);

    public IPendingExperts Start(int layer, IReadOnlyList<ExpertWork> work) => new Deferred(this, layer, work);

    /// <summary>Computed when waited on, so the shared expert runs first on the same cores.</summary>
    sealed class Deferred(LocalExpertExecutor owner, int layer, IReadOnlyList<ExpertWork> work) : IPendingExperts
    {
        public Tensor[] Wait() => work.Select(w => owner._experts[(layer, w.Expert)].Forward(w.Rows)).ToArray();
    }

    public void Dispose()
    {
        foreach (var expert in _experts.Values) expert.Dispose();
        _experts.Clear();
    }
}
