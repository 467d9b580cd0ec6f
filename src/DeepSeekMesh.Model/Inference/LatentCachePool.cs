using DeepSeekMesh.Model.Config;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>
/// Paged storage for MLA caches: per layer, one [blocks · block_size, kv_lora_rank] latent tensor and
/// one [blocks · block_size, qk_rope_head_dim] k_pe tensor, handed out to sequences a block at a time.
/// The engine's pool is fixed (admission control counts free blocks); a private pool of a standalone
/// cache may grow, which keeps every block id valid.
/// <para>
/// With prefix caching (vLLM's automatic prefix caching), a full block is registered under its
/// <see cref="BlockHash"/> and stays reusable after its sequences release it: blocks are
/// reference-counted, and a free block that still holds a cached prefix waits in LRU order at the
/// tail of the free queue (never-cached free blocks go first), so allocation evicts the least
/// recently released cached block only when no other block is free. Cached-but-unreferenced blocks
/// count as free.
/// </para>
/// </summary>
public sealed class LatentCachePool : IDisposable
{
    readonly ModelConfig _config;
    readonly ModelOptions _options;
    readonly LinkedList<int> _free = new(); // head: taken first (uncached, then least recently released cached)
    readonly Dictionary<BlockHash, int> _cached = new();
    readonly bool _growable;
    LinkedListNode<int>?[] _freeNodes;
    int[] _refs;
    BlockHash?[] _hashes;
    Tensor[] _latent, _pe;

    public LatentCachePool(ModelConfig config, ModelOptions options, int blocks, int blockSize = 16, bool growable = false, bool prefixCaching = false)
    {
        if (blocks < 1 || blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blocks), "a cache pool needs at least one block of at least one token");
        _config = config;
        _options = options;
        _growable = growable;
        PrefixCaching = prefixCaching;
        BlockSize = blockSize;
        _latent = Allocate(blocks, config.KvLoraRank);
        _pe = Allocate(blocks, config.QkRopeHeadDim);
        _freeNodes = new LinkedListNode<int>?[blocks];
        _refs = new int[blocks];
        _hashes = new BlockHash?[blocks];
        for (int b = 0; b < blocks; b++) _freeNodes[b] = _free.AddLast(b);
        TotalBlocks = blocks;
    }

    public int BlockSize { get; }
    public int TotalBlocks { get; private set; }
    /// <summary>Blocks no sequence holds, cached ones included (they are evicted when needed).</summary>
    public int FreeBlocks => _free.Count;
    public int UsedBlocks => TotalBlocks - FreeBlocks;
    /// <summary>Whether full blocks are registered by hash and reused across sequences.</summary>
    public bool PrefixCaching { get; }
    /// <summary>Blocks that hold a registered prefix (held or free).</summary>
    public int CachedBlocks => _cached.Count;

    public Tensor Latent(int layer) => _latent[layer]; // [rows, kv_lora_rank]
    public Tensor Pe(int layer) => _pe[layer];         // [rows, qk_rope_head_dim]

    public int BlocksFor(int tokens) => (tokens + BlockSize - 1) / BlockSize;

    /// <summary>Takes <paramref name="count"/> blocks, or none when there are not enough (a growable pool grows instead).</summary>
    public bool TryAllocate(int count, List<int> into)
    {
        if (count > _free.Count)
        {
            if (!_growable) return false;
            Grow(Math.Max(TotalBlocks * 2, UsedBlocks + count));
        }
        for (int i = 0; i < count; i++)
        {
            int b = _free.First!.Value;
            Take(b);
            if (_hashes[b] is { } evicted) // the least recently used cached prefix makes room
            {
                _cached.Remove(evicted);
                _hashes[b] = null;
            }
            into.Add(b);
        }
        return true;
    }

    /// <summary>
    /// Drops one reference to each of <paramref name="blocks"/>. A block nobody holds becomes free: at
    /// the head of the free queue when it caches nothing, at the tail (most recently used) when it does.
    /// Release a sequence's blocks last first, so its tail blocks are evicted before its head blocks.
    /// </summary>
    public void Release(IEnumerable<int> blocks)
    {
        foreach (var b in blocks)
        {
            if (_refs[b] <= 0) throw new InvalidOperationException($"cache block {b} released more often than it was taken");
            if (--_refs[b] > 0) continue;
            _freeNodes[b] = _hashes[b] is null ? _free.AddFirst(b) : _free.AddLast(b);
        }
    }

    /// <summary>
    /// The blocks holding the longest run of <paramref name="hashes"/> from the first (a cached prefix), without taking them.
    /// </summary>
    public List<int> Lookup(IReadOnlyList<BlockHash> hashes)
    {
        var blocks = new List<int>();
        if (!PrefixCaching) return blocks;
        foreach (var h in hashes)
        {
            if (!_cached.TryGetValue(h, out int b)) break;
            blocks.Add(b);
        }
        return blocks;
    }

    /// <summary>How many of <paramref name="blocks"/> are free now (taking them shrinks <see cref="FreeBlocks"/>).</summary>
    public int FreeAmong(IEnumerable<int> blocks) => blocks.Count(b => _refs[b] == 0);

    /// <summary>Takes one more reference to each of <paramref name="blocks"/> (cached blocks another sequence reuses).</summary>
    public void Share(IEnumerable<int> blocks, List<int> into)
    {
        foreach (var b in blocks)
        {
            if (_refs[b] == 0) Take(b);
            else _refs[b]++;
            into.Add(b);
        }
    }

    /// <summary>
    /// Registers <paramref name="block"/>, now full, under <paramref name="hash"/>. When another block
    /// already caches that prefix (two sequences computed it at once), this one stays unregistered.
    /// </summary>
    public void Register(int block, BlockHash hash)
    {
        if (!PrefixCaching || _hashes[block] is not null || _cached.ContainsKey(hash)) return;
        _hashes[block] = hash;
        _cached[hash] = block;
    }

    void Take(int block)
    {
        _free.Remove(_freeNodes[block]!);
        _freeNodes[block] = null;
        _refs[block] = 1;
    }

    Tensor[] Allocate(int blocks, int width)
    {
        using var _ = NewDisposeScope();
        return Enumerable.Range(0, _config.NumHiddenLayers)
            .Select(_ => zeros([(long)blocks * BlockSize, width], _options.ComputeDtype, _options.Device).DetachFromDisposeScope())
            .ToArray();
    }

    void Grow(int blocks)
    {
        var latent = Allocate(blocks, _config.KvLoraRank);
        var pe = Allocate(blocks, _config.QkRopeHeadDim);
        for (int layer = 0; layer < latent.Length; layer++)
        {
            using (var head = latent[layer].narrow(0, 0, _latent[layer].shape[0])) head.copy_(_latent[layer]);
            using (var head = pe[layer].narrow(0, 0, _pe[layer].shape[0])) head.copy_(_pe[layer]);
            _latent[layer].Dispose();
            _pe[layer].Dispose();
        }
        _latent = latent;
        _pe = pe;
        Array.Resize(ref _freeNodes, blocks);
        Array.Resize(ref _refs, blocks);
        Array.Resize(ref _hashes, blocks);
        for (int b = TotalBlocks; b < blocks; b++) _freeNodes[b] = _free.AddLast(b);
        TotalBlocks = blocks;
    }

    public void Dispose()
    {
        foreach (var t in _latent) t.Dispose();
        foreach (var t in _pe) t.Dispose();
    }
}
