using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// RMSNorm: x / sqrt(mean(x²) + eps) · weight, accumulated in f32 whatever the compute dtype (as
/// PyTorch's rms_norm does for the reference's bf16 activations); the weight is held in f32.
/// </summary>
public sealed class RmsNorm(Tensor weight, double eps) : IDisposable
{
    readonly TorchSharp.Scalar _eps = eps; // held: a temporary Scalar may be finalized mid-call
    public static RmsNorm Load(LoadContext ctx, string name, long dim) => new(ctx.Vector(name, dim), ctx.Config.RmsNormEps);

    public Tensor Forward(Tensor x) // [..., dim] -> [..., dim]
    {
        using var scope = NewDisposeScope();
        var x32 = x.to(ScalarType.Float32); // [..., dim]
        var variance = x32.square().mean([-1], keepdim: true); // [..., 1]
        // add(eps, alpha) with a held alpha: `variance + _eps` is add(_eps, 1), whose temporary alpha Scalar can be
        // finalized while libtorch reads it (seen in a soak: "Expected false to be true" from Scalar::toFloat here).
        return (x32 * variance.add(_eps, Scalars.One).rsqrt() * weight).to(x.dtype).MoveToOuterDisposeScope(); // [..., dim]
    }

    public void Dispose()
    {
        weight.Dispose();
        _eps.Dispose();
    }
}
