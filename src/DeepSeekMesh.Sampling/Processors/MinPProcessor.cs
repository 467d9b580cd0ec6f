namespace DeepSeekMesh.Sampling.Processors;

/// <summary>
/// Min-p: removes every token whose probability is below <c>min_p * p_max</c> (probabilities of the
/// temperature-scaled logits). Since p_i / p_max = exp(l_i - l_max), this is the logit threshold
/// <c>l_i &lt; l_max + ln(min_p)</c>, so no softmax is needed. Cost: two vector passes.
/// </summary>
public sealed class MinPProcessor : ILogitsProcessor
{
    private readonly float _logMinP;

    public MinPProcessor(float minP)
    {
        if (!(minP > 0f && minP <= 1f)) throw new ArgumentOutOfRangeException(nameof(minP), minP, "Must be in (0, 1].");
        MinP = minP;
        _logMinP = MathF.Log(minP);
    }

    public float MinP { get; }

    public bool AffectsArgmax => false;

    public void Apply(LogitsState state, SequenceHistory history)
    {
        float max = state.MaxLogit();
        if (float.IsNegativeInfinity(max)) return;
        float threshold = max + _logMinP;
        if (!state.IsTruncated)
        {
            VectorMath.MaskBelow(state.Logits, threshold);
            return;
        }
        var logits = state.Logits;
        var buf = state.CandidateBuffer;
        var ids = state.CandidateIds;
        int kept = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            int id = ids[i];
            if (logits[id] >= threshold) buf[kept++] = id;
        }
        state.CommitCandidates(kept, state.CandidatesSortedDescending);
    }
}
