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
/// <see cref="CacheGroup"/> against the gathered cache, the single-token (decoding) sequences of a
/// group in one batched computation. Building it reserves cache room for the new positions and
/// uploads its index tensors (a fixed number of host→device copies per group).
/// </summary>
public sealed class ForwardBatch : IDisposable
{
    public IReadOnlyList<SequenceSlice> Sequences { get; }
    public IReadOnlyList<CacheGroup> Groups { get; }
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
        var poolRows = slices.Select(s => s.Cache.Reserve(s.Start, s.End)).ToArray(); // throws when a sequence does not fit
        using var _ = NewDisposeScope();
        Tokens = TensorData.ToTensor([.. tokens], [Rows], device).DetachFromDisposeScope();
        Positions = TensorData.ToTensor([.. positions], [Rows], device).DetachFromDisposeScope();
        LastRows = TensorData.ToTensor(last, [last.Length], device).DetachFromDisposeScope();
        var pools = slices.Select(s => s.Cache.Pool).Distinct().ToArray();
        Groups = pools.Select(pool => Group(pool, slices, poolRows, whole: pools.Length == 1, device)).ToArray();
    }

    static CacheGroup Group(LatentCachePool pool, SequenceSlice[] all, long[][] poolRows, bool whole, Device device)
    {
        var members = Enumerable.Range(0, all.Length).Where(s => all[s].Cache.Pool == pool).ToArray();
        var sequences = members.Select(s => all[s]).ToArray();
        int length = sequences.Max(s => s.End), rows = sequences.Sum(s => s.Count);
        var batchRows = new List<long>(rows);
        var write = new List<long>(rows);
        var read = new long[sequences.Length * length];
        var padding = new bool[sequences.Length * length];
        for (int j = 0; j < members.Length; j++)
        {
            var s = sequences[j];
            var positions = poolRows[members[j]];
            for (int i = 0; i < s.Count; i++) batchRows.Add(s.Row + i);
            write.AddRange(positions[s.Start..s.End]);
            positions.CopyTo(read, (long)j * length);
            for (int t = s.End; t < length; t++) padding[j * length + t] = true;
        }
        return new CacheGroup
        {
            Pool = pool,
            Sequences = sequences,
            Decoding = sequences.TakeWhile(s => s.Count == 1).Count(),
            Rows = whole ? null : TensorData.ToTensor([.. batchRows], [rows], device).DetachFromDisposeScope(),
            WriteRows = TensorData.ToTensor([.. write], [rows], device).DetachFromDisposeScope(),
            ReadRows = TensorData.ToTensor(read, [sequences.Length, length], device).DetachFromDisposeScope(),
            Padding = TensorData.ToTensor(padding, [sequences.Length, length], device).DetachFromDisposeScope(),
            Length = length,
        };
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
        foreach (var g in Groups) g.Dispose();
    }
}
