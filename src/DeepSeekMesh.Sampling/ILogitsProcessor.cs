namespace DeepSeekMesh.Sampling;

/// <summary>
/// One in-place transformation of a step's logits. Implementations are small, stateless with respect to the
/// step (any per-request state lives in <see cref="SequenceHistory"/>), and must handle both the dense and the
/// truncated form of <see cref="LogitsState"/>.
/// </summary>
public interface ILogitsProcessor
{
    /// <summary>True when the processor can change which token is the argmax (applied before greedy selection too).</summary>
    bool AffectsArgmax { get; }

    void Apply(LogitsState state, SequenceHistory history);
}
