using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// SwiGLU feed-forward: down(silu(gate(x)) · up(x)). The dense layers, the shared experts and every
/// routed expert are this same function with different widths. gate_proj and up_proj are held
/// stacked, so one GEMM computes both.
/// </summary>
public sealed class Mlp(Linear gateUp, Linear down) : IFeedForward
{
    readonly Linear _gateUp = gateUp, _down = down;

    public static Mlp Load(LoadContext ctx, string prefix, long hidden, long intermediate) => new(
        ctx.FusedLinear([($"{prefix}.gate_proj.weight", intermediate), ($"{prefix}.up_proj.weight", intermediate)], hidden),
        ctx.Linear($"{prefix}.down_proj.weight", hidden, intermediate));

    public Tensor Forward(Tensor x) // [T, hidden] -> [T, hidden]
    {
        using var scope = NewDisposeScope();
        var gu = _gateUp.Forward(x).chunk(2, -1); // [T, intermediate] twice
        var h = F.silu(gu[0]) * gu[1]; // [T, intermediate]
        return _down.Forward(h).MoveToOuterDisposeScope(); // [T, hidden]
    }

    /// <summary>
    /// Several MLPs of the same widths (one layer's routed experts), each on its own rows, as few
    /// kernels as possible: one grouped gate+up product, one SwiGLU over all rows, one grouped down
    /// product. Returns [Σ n_i, hidden], rows in the order given.
    /// </summary>
    public static Tensor Grouped(IReadOnlyList<Mlp> experts, IReadOnlyList<Tensor> xs) // xs[i] [n_i, hidden] -> [Σ n_i, hidden]
    {
        using var scope = NewDisposeScope();
        var gu = Linear.Grouped(experts.Select(e => e._gateUp).ToList(), xs).chunk(2, -1); // [N, intermediate] twice
        var h = F.silu(gu[0]) * gu[1]; // [N, intermediate]
        var hs = new Tensor[xs.Count];
        long row = 0;
        for (int i = 0; i < hs.Length; i++)
        {
            hs[i] = h.narrow(0, row, xs[i].shape[0]); // [n_i, intermediate]
            row += xs[i].shape[0];
        }
        return Linear.Grouped(experts.Select(e => e._down).ToList(), hs).MoveToOuterDisposeScope(); // [N, hidden]
    }

    public long ParameterCount => _gateUp.ParameterCount + _down.ParameterCount;

    /// <summary>Bytes of the resident weights (for FP8: the codes and block scales, ≈ the checkpoint's bytes).</summary>
    public long ParameterBytes => _gateUp.ResidentBytes + _down.ResidentBytes;

    public void Dispose()
    {
        _gateUp.Dispose();
        _down.Dispose();
    }
}
