using TorchSharp;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// Scalars used on hot paths, kept alive for the process. TorchSharp's implicit double → Scalar
/// conversions make temporaries that only a finalizer frees; under GC pressure one can be finalized
/// while libtorch still reads it (seen: "Expected false to be true" from Scalar::toFloat in a
/// batch-16 decode). Layers hold theirs in fields; shared constants live here. The same holds for the alpha
/// that <c>a + b</c> and <c>t + scalar</c> pass (TorchSharp's add(x) is add(x, 1)): hot paths call
/// <c>add(x, Scalars.One)</c> (seen in a soak: RmsNorm's <c>variance + eps</c>).
/// </summary>
public static class Scalars
{
    public static readonly Scalar One = 1;
    public static readonly Scalar NegativeInfinity = double.NegativeInfinity;
}
