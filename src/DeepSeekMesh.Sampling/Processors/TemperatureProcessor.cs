namespace DeepSeekMesh.Sampling.Processors;

/// <summary>
/// Temperature scaling: <c>logit /= T</c> (done as a multiplication by 1/T). T must be &gt; 0; greedy decoding
/// (T = 0) never runs this processor. Cost: one vector pass, or O(#candidates) when truncated.
/// </summary>
public sealed class TemperatureProcessor : ILogitsProcessor
{
    private readonly float _inverse;

    public TemperatureProcessor(float temperature)
    {
        if (!(temperature > 0f) || float.IsPositiveInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "Must be finite and > 0.");
        Temperature = temperature;
        _inverse = 1f / temperature;
    }

    public float Temperature { get; }

    public bool AffectsArgmax => false;

    public void Apply(LogitsState state, SequenceHistory history)
    {
        if (_inverse == 1f) return;
        if (!state.IsTruncated)
        {
            VectorMath.Scale(state.Logits, _inverse);
            return;
        }
        var logits = state.Logits;
        foreach (int id in state.CandidateIds) logits[id] *= _inverse;
    }
}
