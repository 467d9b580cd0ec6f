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

    /// <summary>Computed when waited on, so the shared expert runs first on the same cores: all of the layer's experts as one grouped product.</summary>
    sealed class Deferred(LocalExpertExecutor owner, int layer, IReadOnlyList<ExpertWork> work) : IPendingExperts
    {
        public Tensor[] Wait()
        {
            if (work.Count == 0) return [];
            var y = Mlp.Grouped(work.Select(w => owner._experts[(layer, w.Expert)]).ToList(), work.Select(w => w.Rows).ToList()); // [Σ n, hidden]
            var outputs = new Tensor[work.Count];
            long row = 0;
            for (int i = 0; i < outputs.Length; i++)
            {
                outputs[i] = y.narrow(0, row, work[i].Rows.shape[0]); // [n_i, hidden]
                row += work[i].Rows.shape[0];
            }
            return outputs;
        }
    }

    public void Dispose()
    {
        foreach (var expert in _experts.Values) expert.Dispose();
        _experts.Clear();
    }
}
