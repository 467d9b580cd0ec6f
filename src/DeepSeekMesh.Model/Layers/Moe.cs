using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// Mixture of experts: the gate picks k routed experts per token; each chosen expert transforms
/// its rows (through the <see cref="IExpertExecutor"/>), outputs are weighted and summed, and the
/// shared experts — always on — are added. The weighted sum accumulates in f32 whatever the
/// compute dtype.
/// </summary>
public sealed class Moe(int layer, IRouter router, Mlp? shared, IExpertExecutor experts) : IFeedForward
{
    public static Moe Load(LoadContext ctx, int layer, IExpertExecutor experts, IRouter? router = null)
    {
        var c = ctx.Config;
        var shared = c.NSharedExperts > 0
            ? Mlp.Load(ctx, $"model.layers.{layer}.mlp.shared_experts", c.HiddenSize, (long)c.MoeIntermediateSize * c.NSharedExperts)
            : null;
        return new Moe(layer, router ?? Gate.Load(ctx, layer), shared, experts);
    }

    public Tensor Forward(Tensor x) // [T, hidden] -> [T, hidden]
    {
        using var scope = NewDisposeScope();
        var (weights, indices) = router.Route(x); // [T, k], [T, k]
        var routes = ExpertRoutes.Group(indices, weights); // per distinct expert: its rows and weights
        var pending = experts.Start(layer, routes.Select(r => new ExpertWork(r.Expert, x.index_select(0, r.Rows))).ToArray());
        var y = shared?.Forward(x) ?? zeros_like(x); // [T, hidden]
        var outputs = pending.Wait(); // per expert [n, hidden]
        var routed = zeros(x.shape, ScalarType.Float32, x.device); // [T, hidden] f32
        for (int i = 0; i < routes.Count; i++)
            routed.index_add_(0, routes[i].Rows, outputs[i].to(ScalarType.Float32) * routes[i].Weights.unsqueeze(1), Scalars.One); // [T, hidden]
        return routed.add(y, Scalars.One).to(x.dtype).MoveToOuterDisposeScope(); // [T, hidden] (a held alpha: see Scalars)
    }

    public void Dispose()
    {
        router.Dispose();
        shared?.Dispose();
    }
}
