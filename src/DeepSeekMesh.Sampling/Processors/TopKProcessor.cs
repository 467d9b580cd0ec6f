namespace DeepSeekMesh.Sampling.Processors;

/// <summary>
/// Top-k: keeps exactly the k candidates with the largest logits (ties broken towards the lower token id, so the
/// set is deterministic), as a candidate list sorted best first. Dense cost: one vector pass with a k-element heap.
/// </summary>
public sealed class TopKProcessor : ILogitsProcessor
{
    public TopKProcessor(int k)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        K = k;
    }

    public int K { get; }

    public bool AffectsArgmax => false;

    public void Apply(LogitsState state, SequenceHistory history)
    {
        if (!state.IsTruncated)
        {
            if (K >= state.VocabSize) return;
            var pairs = state.Pairs;
            int n = VectorMath.SelectTop(state.Logits, K, pairs);
            var buf = state.CandidateBuffer;
            for (int i = 0; i < n; i++) buf[i] = pairs[i].Id;
            state.CommitCandidates(n, sortedDescending: true);
            return;
        }
        if (state.CandidateIds.Length <= K) return;
        state.SortCandidates();
        state.CommitCandidates(K, sortedDescending: true);
    }
}
