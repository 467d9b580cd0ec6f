using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// SwiGLU feed-forward: down(silu(gate(x)) · up(x)). The dense layers, the shared experts and every
/// routed expert are this same function with different widths.
/// </summary>
public sealed class Mlp(Linear gate, Linear up, Linear down) : IFeedForward
{
    public static Mlp Load(LoadContext ctx, string prefix, long hidden, long intermediate) => new(
        ctx.Linear($"{prefix}.gate_proj.weight", intermediate, hidden),
        ctx.Linear($"{prefix}.up_proj.weight", intermediate, hidden),
        ctx.Linear($"{prefix}.down_proj.weight", hidden, intermediate));

    public Tensor Forward(Tensor x) // [T, hidden] -> [T, hidden]
    {
        using var scope = NewDisposeScope();
        var h = F.silu(gate.Forward(x)) * up.Forward(x); // [T, intermediate]
        return down.Forward(h).MoveToOuterDisposeScope(); // [T, hidden]
    }

    public long ParameterCount => gate.Weight.numel() + up.Weight.numel() + down.Weight.numel();

    public void Dispose()
    {
        gate.Dispose();
        up.Dispose();
        down.Dispose();
    }
}
