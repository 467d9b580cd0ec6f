using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>RMSNorm: x / sqrt(mean(x²) + eps) · weight.</summary>
public sealed class RmsNorm(Tensor weight, double eps) : IDisposable
{
    readonly TorchSharp.Scalar _eps = eps; // held: a temporary Scalar may be finalized mid-call
    public static RmsNorm Load(LoadContext ctx, string name, long dim) => new(ctx.Vector(name, dim), ctx.Config.RmsNormEps);

    public Tensor Forward(Tensor x) // [..., dim] -> [..., dim]
    {
        using var scope = NewDisposeScope();
        var variance = x.square().mean([-1], keepdim: true); // [..., 1]
        return (x * (variance + _eps).rsqrt() * weight).MoveToOuterDisposeScope(); // [..., dim]
    }

    public void Dispose()
    {
        weight.Dispose();
        _eps.Dispose();
    }
}
