using DeepSeekMesh.Model.Config;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>
/// One sequence's MLA cache: per layer, the RMS-normalized KV latent [kv_lora_rank] and the roped
/// shared key k_pe [qk_rope_head_dim] of every position — 576 values per token per layer in V3,
/// instead of 2 · 128 heads · 128. Positions live in blocks of a <see cref="LatentCachePool"/>,
/// listed in this sequence's block table. With prefix caching, a new sequence starts on the cached
/// blocks of its longest cached prompt prefix (<see cref="TryAdmit"/>), and its own blocks are
/// registered as they fill (<see cref="CacheFullBlocks"/>); a registered block is never written again.
/// </summary>
public sealed class LatentCache : IDisposable
{
    readonly LatentCachePool _pool;
    readonly bool _ownsPool;
    readonly ModelConfig _config;
    readonly List<int> _blocks = new();
    readonly List<BlockHash> _hashes = new(); // of the full blocks registered (or reused) so far, in order
    (IReadOnlyList<int> Prompt, List<BlockHash> Hashes)? _promptHashes; // of the prompt's blocks that may be reused, kept while admission waits

    public LatentCache(LatentCachePool pool, ModelConfig config, bool ownsPool = false)
    {
        _pool = pool;
        _config = config;
        _ownsPool = ownsPool;
    }

    /// <summary>Positions already cached (the next token's position).</summary>
    public int Length { get; private set; }

    /// <summary>Positions the blocks held now can store.</summary>
    public int Capacity => _blocks.Count * _pool.BlockSize;

    public IReadOnlyList<int> Blocks => _blocks;

    /// <summary>Where this sequence's positions are stored (shared by the engine's sequences).</summary>
    public LatentCachePool Pool => _pool;

    public static long BytesPerToken(ModelConfig config, ScalarType dtype) =>
        (long)config.NumHiddenLayers * (config.KvLoraRank + config.QkRopeHeadDim) * ElementSize(dtype);

    static int ElementSize(ScalarType dtype) => dtype switch { ScalarType.Float32 => 4, ScalarType.Float64 => 8, _ => 2 };

    /// <summary>Holds enough blocks for <paramref name="tokens"/> positions; false when the pool has too few free.</summary>
    public bool TryReserve(int tokens)
    {
        int missing = _pool.BlocksFor(tokens) - _blocks.Count;
        return missing <= 0 || _pool.TryAllocate(missing, _blocks);
    }

    /// <summary>
    /// Admission of a new sequence with <paramref name="prompt"/> that needs room for <paramref name="tokens"/>
    /// positions: reuses the blocks of the longest cached prefix of the prompt (never its last token, whose
    /// logits must be computed) and takes fresh blocks for the rest, or changes nothing and returns false when
    /// too few blocks are free. On success the cache starts at <paramref name="cachedTokens"/> positions.
    /// </summary>
    public bool TryAdmit(IReadOnlyList<int> prompt, int tokens, out int cachedTokens)
    {
        cachedTokens = 0;
        if (_blocks.Count > 0 || Length > 0) throw new InvalidOperationException("admission of a cache already in use");
        var hits = new List<int>();
        if (_promptHashes is not { } known || !ReferenceEquals(known.Prompt, prompt)) _promptHashes = known = (prompt, []);
        var hashes = known.Hashes;
        if (_pool.PrefixCaching)
        {
            BlockHash.Extend(hashes, prompt, _pool.BlockSize, (prompt.Count - 1) / _pool.BlockSize); // once: a no-op when admission retries
            hits = _pool.Lookup(hashes);
        }
        int fresh = _pool.BlocksFor(tokens) - hits.Count;
        if (fresh > _pool.FreeBlocks - _pool.FreeAmong(hits)) return false;
        _pool.Share(hits, _blocks);
        if (!_pool.TryAllocate(Math.Max(fresh, 0), _blocks)) throw new InvalidOperationException("the pool lost free blocks during admission");
        _hashes.AddRange(hashes.Take(hits.Count));
        _promptHashes = null;
        Length = cachedTokens = hits.Count * _pool.BlockSize;
        return true;
    }

    /// <summary>
    /// Registers every block that the committed positions filled since the last call, under the hash of
    /// <paramref name="tokens"/> up to its end (<paramref name="tokens"/>: at least the first <see cref="Length"/> tokens of the sequence).
    /// </summary>
    public void CacheFullBlocks(IReadOnlyList<int> tokens)
    {
        if (!_pool.PrefixCaching) return;
        int full = Length / _pool.BlockSize;
        if (full <= _hashes.Count) return;
        int before = _hashes.Count;
        BlockHash.Extend(_hashes, tokens, _pool.BlockSize, full);
        for (int b = before; b < full; b++) _pool.Register(_blocks[b], _hashes[b]);
    }

    /// <summary>
    /// Checks that positions [start, end) may be written next and holds the blocks for them; returns the
    /// pool rows of positions [0, end), where each layer writes and reads this sequence's latents.
    /// </summary>
    public long[] Reserve(int start, int end)
    {
        if (start > Length) throw new InvalidOperationException($"cache write at {start} leaves a gap after {Length}");
        if (start < _hashes.Count * _pool.BlockSize) throw new InvalidOperationException($"cache write at {start} would change a cached block");
        if (end > _config.MaxPositionEmbeddings) throw new ContextLengthException(end, _config.MaxPositionEmbeddings);
        if (!TryReserve(end)) throw new CacheFullException(_pool.BlocksFor(end) - _blocks.Count, _pool.FreeBlocks);
        var rows = new long[end];
        for (int p = 0; p < end; p++) rows[p] = (long)_blocks[p / _pool.BlockSize] * _pool.BlockSize + p % _pool.BlockSize;
        return rows;
    }

    /// <summary>Marks positions below <paramref name="length"/> as valid after a forward step wrote every layer.</summary>
    public void Commit(int length) => Length = length;

    /// <summary>Forgets positions at and after <paramref name="length"/>.</summary>
    public void Truncate(int length) => Length = Math.Min(Length, Math.Max(length, 0));

    public void Dispose()
    {
        _pool.Release(Enumerable.Reverse(_blocks)); // last first: a prefix's tail blocks are evicted before its head
        _blocks.Clear();
        _hashes.Clear();
        if (_ownsPool) _pool.Dispose();
    }
}
