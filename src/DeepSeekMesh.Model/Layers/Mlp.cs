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
    public static Mlp Load(LoadContext ctx, string prefix, long hidden, long intermediate) => new(
        ctx.FusedLinear([($"{prefix}.gate_proj.weight", intermediate), ($"{prefix}.up_proj.weight", intermediate)], hidden),
        ctx.Linear($"{prefix}.down_proj.weight", hidden, intermediate));

    public Tensor Forward(Tensor x) // [T, hidden] -> [T, hidden]
    {
        using var scope = NewDisposeScope();
        var gu = gateUp.Forward(x).chunk(2, -1); // [T, intermediate] twice
        var h = F.silu(gu[0]) * gu[1]; // [T, intermediate]
        return down.Forward(h).MoveToOuterDisposeScope(); // [T, hidden]
    }

    public long ParameterCount => gateUp.Weight.numel() + down.Weight.numel();

    /// <summary>Bytes of the resident weights.</summary>
    public long ParameterBytes => gateUp.Weight.numel() * gateUp.Weight.element_size() + down.Weight.numel() * down.Weight.element_size();

    public void Dispose()
    {
        gateUp.Dispose();
        down.Dispose();
    }
}
