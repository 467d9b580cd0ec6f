using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Weights;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>What a layer needs to load its weights: the checkpoint, the config and the numeric options.</summary>
public sealed record LoadContext(Checkpoint Checkpoint, ModelConfig Config, ModelOptions Options)
{
    public Linear Linear(string name, long outFeatures, long inFeatures) => FusedLinear([(name, outFeatures)], inFeatures);

    /// <summary>
    /// Several projections of the same input stacked into one weight [Σ out, in], so one GEMM reads
    /// them all (gate+up of a SwiGLU, q_a+kv_a of MLA); the caller splits the output. FP8 checkpoints'
    /// projections stay FP8 when <see cref="ModelOptions.KeepFp8"/> is set.
    /// </summary>
    public Linear FusedLinear(IReadOnlyList<(string Name, long OutFeatures)> parts, long inFeatures)
    {
        if (Options.KeepFp8 && parts.All(p => Checkpoint.IsFp8(p.Name)))
        {
            var (codes, scales, scaleRow) = Checkpoint.LoadFp8(parts, inFeatures, Options.Device);
            return new Linear(new Fp8Weight(codes, scales, scaleRow, Checkpoint.BlockSize[1]));
        }
        return new Linear(Checkpoint.LoadStacked(parts.Select(p => (p.Name, new[] { p.OutFeatures, inFeatures })).ToList(), Options.WeightDtype, Options.Device));
    }

    /// <summary>Norm weights and the gate's bias: small vectors, held in f32 whatever the compute dtype (they scale f32 accumulations).</summary>
    public Tensor Vector(string name, long length) =>
        Checkpoint.Load(name, [length], ScalarType.Float32, Options.Device);

    public Tensor Matrix(string name, long rows, long cols, ScalarType dtype) =>
        Checkpoint.Load(name, [rows, cols], dtype, Options.Device);
}
