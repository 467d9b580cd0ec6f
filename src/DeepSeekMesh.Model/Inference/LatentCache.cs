using DeepSeekMesh.Model.Config;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>
/// One sequence's MLA cache: per layer, the RMS-normalized KV latent [kv_lora_rank] and the roped
/// shared key k_pe [qk_rope_head_dim] of every position — 576 values per token per layer in V3,
/// instead of 2 · 128 heads · 128. Positions live in blocks of a <see cref="LatentCachePool"/>,
/// listed in this sequence's block table.
/// </summary>
public sealed class LatentCache : IDisposable
{
    readonly LatentCachePool _pool;
    readonly bool _ownsPool;
    readonly ModelConfig _config;
    readonly List<int> _blocks = new();
    (int Start, int End, Tensor Write, Tensor Read)? _rows;

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

    public static long BytesPerToken(ModelConfig config, ScalarType dtype) =>
        (long)config.NumHiddenLayers * (config.KvLoraRank + config.QkRopeHeadDim) * ElementSize(dtype);

    static int ElementSize(ScalarType dtype) => dtype switch { ScalarType.Float32 => 4, ScalarType.Float64 => 8, _ => 2 };

    /// <summary>Holds enough blocks for <paramref name="tokens"/> positions; false when the pool has too few free.</summary>
    public bool TryReserve(int tokens)
    {
        int missing = _pool.BlocksFor(tokens) - _blocks.Count;
        return missing <= 0 || _pool.TryAllocate(missing, _blocks);
    }

    /// <summary>Writes positions [start, start + n) of one layer; returns positions [0, start + n) of that layer.</summary>
    public (Tensor Latent, Tensor Pe) Write(int layer, int start, Tensor latent, Tensor pe) // [n, c], [n, r] -> [end, c], [end, r]
    {
        int end = start + (int)latent.shape[0];
        if (start > Length) throw new InvalidOperationException($"cache write at {start} leaves a gap after {Length}");
        if (end > _config.MaxPositionEmbeddings) throw new ContextLengthException(end, _config.MaxPositionEmbeddings);
        if (!TryReserve(end)) throw new CacheFullException(_pool.BlocksFor(end) - _blocks.Count, _pool.FreeBlocks);
        var (write, read) = Rows(start, end);
        var latentStore = _pool.Latent(layer);
        var peStore = _pool.Pe(layer);
        latentStore.index_copy_(0, write, latent);
        peStore.index_copy_(0, write, pe);
        return (latentStore.index_select(0, read), peStore.index_select(0, read));
    }

    /// <summary>Pool rows of positions [start, end) and [0, end), computed once per step and shared by every layer.</summary>
    (Tensor Write, Tensor Read) Rows(int start, int end)
    {
        if (_rows is { } r && r.Start == start && r.End == end) return (r.Write, r.Read);
        DisposeRows();
        var rows = new long[end];
        for (int p = 0; p < end; p++) rows[p] = (long)_blocks[p / _pool.BlockSize] * _pool.BlockSize + p % _pool.BlockSize;
        using var _ = NewDisposeScope();
        var device = _pool.Latent(0).device;
        var read = tensor(rows, ScalarType.Int64, device).DetachFromDisposeScope();
        var write = tensor(rows[start..], ScalarType.Int64, device).DetachFromDisposeScope();
        _rows = (start, end, write, read);
        return (write, read);
    }

    /// <summary>Marks positions below <paramref name="length"/> as valid after a forward step wrote every layer.</summary>
    public void Commit(int length) => Length = length;

    /// <summary>Forgets positions at and after <paramref name="length"/>.</summary>
    public void Truncate(int length) => Length = Math.Min(Length, Math.Max(length, 0));

    void DisposeRows()
    {
        if (_rows is { } r)
        {
            r.Write.Dispose();
            r.Read.Dispose();
        }
        _rows = null;
    }

    public void Dispose()
    {
        DisposeRows();
        _pool.Release(_blocks);
        _blocks.Clear();
        if (_ownsPool) _pool.Dispose();
    }
}
