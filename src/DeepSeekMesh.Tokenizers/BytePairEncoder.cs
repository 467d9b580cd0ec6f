namespace DeepSeekMesh.Tokenizers;

/// <summary>
/// Byte-level BPE over one pre-tokenized piece: starts from one token per byte and repeatedly applies the
/// lowest-ranked merge, leftmost occurrence first (identical to HF's priority-queue merge loop).
/// </summary>
internal sealed class BytePairEncoder
{
    /// <summary>Pieces up to this many bytes use the quadratic scan; longer ones use a heap.</summary>
    internal const int SmallWordLimit = 48;

    private readonly int[] _byteToId;
    private readonly MergeTable _ranks;
    private readonly int[] _mergeResult; // rank -> merged token id

    public BytePairEncoder(int[] byteToId, IReadOnlyList<(int Left, int Right)> pairsByRank, int[] mergeResult)
    {
        if (byteToId.Length != 256)
        {
            throw new ArgumentException("Need one token id per byte.", nameof(byteToId));
        }
        _byteToId = byteToId;
        _ranks = new MergeTable(pairsByRank);
        _mergeResult = mergeResult;
    }

    public int ByteToId(byte b) => _byteToId[b];

    /// <summary>Encodes <paramref name="bytes"/> into <paramref name="ids"/> (length ≥ bytes.Length); returns the token count.</summary>
    public int Encode(ReadOnlySpan<byte> bytes, Span<int> ids) =>
        bytes.Length <= SmallWordLimit ? EncodeSmall(bytes, ids) : EncodeLarge(bytes, ids);

    internal int EncodeSmall(ReadOnlySpan<byte> bytes, Span<int> ids)
    {
        int n = bytes.Length;
        for (int i = 0; i < n; i++)
        {
            ids[i] = _byteToId[bytes[i]];
        }
        if (n < 2)
        {
            return n;
        }
        Span<int> ranks = n <= 256 ? stackalloc int[n] : new int[n];
        for (int i = 0; i < n - 1; i++)
        {
            ranks[i] = _ranks.Rank(ids[i], ids[i + 1]);
        }
        while (n > 1)
        {
            int best = int.MaxValue;
            int at = -1;
            for (int i = 0; i < n - 1; i++)
            {
                if (ranks[i] < best)
                {
                    best = ranks[i];
                    at = i;
                }
            }
            if (at < 0)
            {
                break;
            }
            ids[at] = _mergeResult[best];
            // Remove symbol at+1 and pair rank at+1 (the pair (at+1, at+2) becomes (at, at+2)).
            int tail = n - at - 2;
            if (tail > 0)
            {
                ids.Slice(at + 2, tail).CopyTo(ids[(at + 1)..]);
                ranks.Slice(at + 2, tail - 1 >= 0 ? tail - 1 : 0).CopyTo(ranks[(at + 1)..]);
            }
            n--;
            if (at + 1 < n)
            {
                ranks[at] = _ranks.Rank(ids[at], ids[at + 1]);
            }
            if (at > 0)
            {
                ranks[at - 1] = _ranks.Rank(ids[at - 1], ids[at]);
            }
        }
        return n;
    }

    internal int EncodeLarge(ReadOnlySpan<byte> bytes, Span<int> ids)
    {
        int n = bytes.Length;
        var sym = new int[n];
        var prev = new int[n];
        var next = new int[n];
        for (int i = 0; i < n; i++)
        {
            sym[i] = _byteToId[bytes[i]];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // Priority: (rank, position) -- the lowest rank first, then the leftmost.
        var queue = new PriorityQueue<int, long>(n);
        for (int i = 0; i + 1 < n; i++)
        {
            int r = _ranks.Rank(sym[i], sym[i + 1]);
            if (r != int.MaxValue)
            {
                queue.Enqueue(i, ((long)r << 32) | (uint)i);
            }
        }
        var alive = new bool[n];
        Array.Fill(alive, true);
        while (queue.TryDequeue(out int pos, out long priority))
        {
            int rank = (int)(priority >> 32);
            int right = next[pos];
            if (!alive[pos] || right < 0 || _ranks.Rank(sym[pos], sym[right]) != rank)
            {
                continue; // stale entry
            }
            sym[pos] = _mergeResult[rank];
            alive[right] = false;
            int after = next[right];
            next[pos] = after;
            if (after >= 0)
            {
                prev[after] = pos;
                int r = _ranks.Rank(sym[pos], sym[after]);
                if (r != int.MaxValue)
                {
                    queue.Enqueue(pos, ((long)r << 32) | (uint)pos);
                }
            }
            int before = prev[pos];
            if (before >= 0)
            {
                int r = _ranks.Rank(sym[before], sym[pos]);
                if (r != int.MaxValue)
                {
                    queue.Enqueue(before, ((long)r << 32) | (uint)before);
                }
            }
        }
        int count = 0;
        for (int i = 0; i >= 0; i = next[i])
        {
            ids[count++] = sym[i];
        }
        return count;
    }
}
