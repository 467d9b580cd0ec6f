namespace DeepSeekMesh.Sampling.Processors;

/// <summary>
/// vLLM <c>min_tokens</c>: while fewer than <c>minTokens</c> tokens have been generated, EOS and the stop token ids
/// get logit −inf so the sequence cannot end early. Cost: O(#stop ids).
/// </summary>
public sealed class MinTokensProcessor : ILogitsProcessor
{
    private readonly int _minTokens;
    private readonly int[] _stopIds;

    public MinTokensProcessor(int minTokens, IEnumerable<int> stopTokenIds)
    {
        _minTokens = minTokens;
        _stopIds = [.. stopTokenIds];
    }

    public bool AffectsArgmax => true;

    public void Apply(LogitsState state, SequenceHistory history)
    {
        if (history.OutputLength >= _minTokens) return;
        var logits = state.Logits;
        foreach (int id in _stopIds)
            logits[id] = float.NegativeInfinity;
    }
}
