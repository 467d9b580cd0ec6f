using DeepSeekMesh.Model.Config;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>
/// Paged storage for MLA caches: per layer, one [blocks · block_size, kv_lora_rank] latent tensor and
/// one [blocks · block_size, qk_rope_head_dim] k_pe tensor, handed out to sequences a block at a time.
/// The engine's pool is fixed (admission control counts free blocks); a private pool of a standalone
/// cache may grow, which keeps every block id valid.
/// </summary>
public sealed class LatentCachePool : IDisposable
{
    readonly ModelConfig _config;
    readonly ModelOptions _options;
    readonly Stack<int> _free = new();
    readonly bool _growable;
    Tensor[] _latent, _pe;

    public LatentCachePool(ModelConfig config, ModelOptions options, int blocks, int blockSize = 16, bool growable = false)
    {
        if (blocks < 1 || blockSize < 1) throw new ArgumentOutOfRangeException(nameof(blocks), "a cache pool needs at least one block of at least one token");
        _config = config;
        _options = options;
        _growable = growable;
        BlockSize = blockSize;
        _latent = Allocate(blocks, config.KvLoraRank);
        _pe = Allocate(blocks, config.QkRopeHeadDim);
        for (int b = blocks - 1; b >= 0; b--) _free.Push(b);
        TotalBlocks = blocks;
    }

    public int BlockSize { get; }
    public int TotalBlocks { get; private set; }
    public int FreeBlocks => _free.Count;
    public int UsedBlocks => TotalBlocks - FreeBlocks;

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
        for (int i = 0; i < count; i++) into.Add(_free.Pop());
        return true;
    }

    public void Release(IEnumerable<int> blocks)
    {
        foreach (var b in blocks) _free.Push(b);
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
        for (int b = blocks - 1; b >= TotalBlocks; b--) _free.Push(b);
        TotalBlocks = blocks;
    }

    public void Dispose()
    {
        foreach (var t in _latent) t.Dispose();
        foreach (var t in _pe) t.Dispose();
    }
}
