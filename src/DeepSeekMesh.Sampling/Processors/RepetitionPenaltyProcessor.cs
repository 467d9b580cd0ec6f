namespace DeepSeekMesh.Sampling.Processors;

/// <summary>
/// vLLM / CTRL repetition penalty: for every token that occurs in the prompt or the output so far,
/// a positive logit is divided by the penalty and a non-positive one multiplied by it
/// (penalty &gt; 1 discourages repetition, &lt; 1 encourages it). Cost: O(#distinct tokens in prompt+output).
/// </summary>
public sealed class RepetitionPenaltyProcessor : ILogitsProcessor
{
    private readonly float _penalty;

    public RepetitionPenaltyProcessor(float penalty)
    {
        if (!(penalty > 0f)) throw new ArgumentOutOfRangeException(nameof(penalty), penalty, "Must be > 0.");
        _penalty = penalty;
    }

    public bool AffectsArgmax => true;

    public void Apply(LogitsState state, SequenceHistory history)
    {
        var logits = state.Logits;
        float p = _penalty;
        foreach (int id in history.DistinctTokenIds)
        {
            float l = logits[id];
            logits[id] = l > 0f ? l / p : l * p;
        }
    }
}
