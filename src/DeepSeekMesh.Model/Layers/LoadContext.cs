using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Weights;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>What a layer needs to load its weights: the checkpoint, the config and the numeric options.</summary>
public sealed record LoadContext(Checkpoint Checkpoint, ModelConfig Config, ModelOptions Options)
{
    public Linear Linear(string name, long outFeatures, long inFeatures) =>
        new(Checkpoint.Load(name, [outFeatures, inFeatures], Options.WeightDtype, Options.Device));

    /// <summary>
    /// Several projections of the same input stacked into one weight [Σ out, in], so one GEMM reads
    /// them all (gate+up of a SwiGLU, q_a+kv_a of MLA); the caller splits the output.
    /// </summary>
    public Linear FusedLinear(IReadOnlyList<(string Name, long OutFeatures)> parts, long inFeatures)
    {
        var weights = parts.Select(p => Checkpoint.Load(p.Name, [p.OutFeatures, inFeatures], Options.WeightDtype, Options.Device)).ToArray();
        try
        {
            return new Linear(TorchSharp.torch.cat(weights, 0));
        }
        finally
        {
            foreach (var w in weights) w.Dispose();
        }
    }

    /// <summary>Norm weights and the gate's bias: small vectors, held in f32 whatever the compute dtype (they scale f32 accumulations).</summary>
    public Tensor Vector(string name, long length) =>
        Checkpoint.Load(name, [length], ScalarType.Float32, Options.Device);

    public Tensor Matrix(string name, long rows, long cols, ScalarType dtype) =>
        Checkpoint.Load(name, [rows, cols], dtype, Options.Device);
}
