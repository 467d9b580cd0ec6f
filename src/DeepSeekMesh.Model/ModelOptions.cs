using static TorchSharp.torch;

namespace DeepSeekMesh.Model;

/// <summary>How the MLA attention is evaluated; both give the same numbers (tested).</summary>
public enum AttentionImpl
{
    /// <summary>Naive (per-head k/v expanded from the latent) for prefill chunks, absorbed for single-token decode.</summary>
    Auto,
    /// <summary>Expand kv_b_proj over the cached latents: cheaper for long prefill chunks.</summary>
    Naive,
    /// <summary>Fold kv_b_proj into the query and the output: attention runs on the latent cache directly.</summary>
    Absorb,
}

/// <summary>Numeric and placement settings of a loaded model.</summary>
public sealed record ModelOptions
{
    /// <summary>
    /// Activations, the latent KV cache and (in the mesh) expert rows: Float32, or BFloat16 as the
    /// reference runs (the default on CUDA; CPUs without bf16 arithmetic are faster in Float32).
    /// Norms, softmax, RoPE, the gate and the MoE sum accumulate in Float32 either way.
    /// </summary>
    public ScalarType ComputeDtype { get; init; } = ScalarType.Float32;
    /// <summary>
    /// How projection weights are held in memory: Float32, or BFloat16 to halve memory and its
    /// traffic. With Float32 compute on the CPU a bf16 weight is widened exactly inside each product
    /// (<see cref="Layers.DenseGemv"/> in decode, a widened copy in prefill), so a checkpoint stored
    /// in bf16 computes the same numbers either way (up to summation order).
    /// </summary>
    public ScalarType WeightDtype { get; init; } = ScalarType.Float32;
    /// <summary>
    /// Projections stored as F8 E4M3 stay so in memory (1 byte per weight plus the block scales) and
    /// are dequantized inside the matrix products; false dequantizes them to <see cref="WeightDtype"/>
    /// at load. Weights stored otherwise (embedding, norms, lm_head) load as <see cref="WeightDtype"/>.
    /// </summary>
    public bool KeepFp8 { get; init; } = true;
    public Device Device { get; init; } = CPU;
    public AttentionImpl Attention { get; init; } = AttentionImpl.Auto;
}
