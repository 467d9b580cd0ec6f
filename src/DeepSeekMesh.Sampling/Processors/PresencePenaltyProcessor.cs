namespace DeepSeekMesh.Sampling.Processors;

/// <summary>
/// OpenAI presence penalty: <c>logit[j] -= presence_penalty</c> once for every token j generated at least once
/// (prompt tokens are not counted). Cost: O(#distinct output tokens).
/// </summary>
public sealed class PresencePenaltyProcessor : ILogitsProcessor
{
    private readonly float _penalty;

    public PresencePenaltyProcessor(float penalty) => _penalty = penalty;

    public bool AffectsArgmax => true;

    public void Apply(LogitsState state, SequenceHistory history)
    {
        var logits = state.Logits;
        foreach (int id in history.DistinctOutputTokenIds)
            logits[id] -= _penalty;
    }
}
