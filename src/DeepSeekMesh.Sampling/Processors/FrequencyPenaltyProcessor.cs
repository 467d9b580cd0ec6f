namespace DeepSeekMesh.Sampling.Processors;

/// <summary>
/// OpenAI frequency penalty: <c>logit[j] -= frequency_penalty * count[j]</c>, where count is the number of times
/// token j was generated so far (prompt tokens are not counted). Cost: O(#distinct output tokens).
/// </summary>
public sealed class FrequencyPenaltyProcessor : ILogitsProcessor
{
    private readonly float _penalty;

    public FrequencyPenaltyProcessor(float penalty) => _penalty = penalty;

    public bool AffectsArgmax => true;

    public void Apply(LogitsState state, SequenceHistory history)
    {
        var logits = state.Logits;
        var ids = history.DistinctOutputTokenIds;
        var counts = history.DistinctOutputCounts;
        for (int i = 0; i < ids.Length; i++)
            logits[ids[i]] -= _penalty * counts[i];
    }
}
