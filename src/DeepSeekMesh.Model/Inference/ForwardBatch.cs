using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>One sequence's part of a ragged batch: <c>Count</c> new tokens at rows [Row, Row + Count), positions [Start, Start + Count).</summary>
public readonly record struct SequenceSlice(LatentCache Cache, int Start, int Row, int Count)
{
    public int End => Start + Count;
}

/// <summary>
/// A forward step over several sequences of different lengths and positions, flattened into rows
/// (like vLLM's packed batches): every projection runs on all rows at once; attention runs per
/// sequence against its own cache.
/// </summary>
public sealed class ForwardBatch : IDisposable
{
    public IReadOnlyList<SequenceSlice> Sequences { get; }
    public Tensor Tokens { get; }     // [T] int64
    public Tensor Positions { get; }  // [T] int64
    public Tensor LastRows { get; }   // [S] int64: each sequence's last row, whose logits are wanted
    public int Rows { get; }

    public ForwardBatch(IReadOnlyList<(LatentCache Cache, IReadOnlyList<int> Tokens)> sequences, Device device)
    {
        var slices = new SequenceSlice[sequences.Count];
        var tokens = new List<long>();
        var positions = new List<long>();
        var last = new long[sequences.Count];
        for (int s = 0; s < sequences.Count; s++)
        {
            var (cache, newTokens) = sequences[s];
            if (newTokens.Count == 0) throw new ArgumentException($"sequence {s} has no new tokens");
            slices[s] = new SequenceSlice(cache, cache.Length, tokens.Count, newTokens.Count);
            for (int i = 0; i < newTokens.Count; i++)
            {
                tokens.Add(newTokens[i]);
                positions.Add(cache.Length + i);
            }
            last[s] = tokens.Count - 1;
        }
        Sequences = slices;
        Rows = tokens.Count;
        using var _ = NewDisposeScope();
        Tokens = tensor(tokens.ToArray(), ScalarType.Int64, device).DetachFromDisposeScope();
        Positions = tensor(positions.ToArray(), ScalarType.Int64, device).DetachFromDisposeScope();
        LastRows = tensor(last, ScalarType.Int64, device).DetachFromDisposeScope();
    }

    /// <summary>After every layer wrote its cache entries: the new positions become part of each sequence.</summary>
    public void Commit()
    {
        foreach (var s in Sequences) s.Cache.Commit(s.End);
    }

    public void Dispose()
    {
        Tokens.Dispose();
        Positions.Dispose();
        LastRows.Dispose();
    }
}
