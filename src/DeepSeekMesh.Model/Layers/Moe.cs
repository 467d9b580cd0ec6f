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
        var (routes, rows, gate) = ExpertRoutes.Group(indices, weights); // per distinct expert; [N] token and [N] gate weight of each (token, expert) pair, by expert
        var gathered = x.index_select(0, rows); // [N, hidden]: gathered once
        var work = new ExpertWork[routes.Count];
        long first = 0;
        for (int i = 0; i < work.Length; i++)
        {
            long n = routes[i].Rows.shape[0];
            work[i] = new ExpertWork(routes[i].Expert, gathered.narrow(0, first, n)); // [n, hidden]
            first += n;
        }
        var pending = experts.Start(layer, work);
        var y = shared?.Forward(x) ?? zeros_like(x); // [T, hidden]
        var outputs = cat(pending.Wait(), 0); // [N, hidden]
        var routed = zeros(x.shape, ScalarType.Float32, x.device); // [T, hidden] f32
        routed.index_add_(0, rows, outputs.to(ScalarType.Float32) * gate.unsqueeze(1), Scalars.One); // [T, hidden]: scattered once
        return routed.add(y, Scalars.One).to(x.dtype).MoveToOuterDisposeScope(); // [T, hidden] (a held alpha: see Scalars)
    }

    public void Dispose()
    {
        router.Dispose();
        shared?.Dispose();
    }
}
