using DeepSeekMesh.Model.Config;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Inference;

/// <summary>
/// One sequence's MLA cache: per layer, the RMS-normalized KV latent [kv_lora_rank] and the roped
/// shared key k_pe [qk_rope_head_dim] of every position — 576 values per token per layer in V3,
/// instead of 2 · 128 heads · 128. Storage grows by doubling, up to max_position_embeddings.
/// </summary>
public sealed class LatentCache : IDisposable
{
    readonly Tensor?[] _latent; // per layer [capacity, kv_lora_rank]
    readonly Tensor?[] _pe;     // per layer [capacity, qk_rope_head_dim]
    readonly ModelConfig _config;
    readonly ModelOptions _options;
    int _capacity;

    public LatentCache(ModelConfig config, ModelOptions options, int initialCapacity = 64)
    {
        _config = config;
        _options = options;
        _capacity = Math.Min(Math.Max(initialCapacity, 1), config.MaxPositionEmbeddings);
        _latent = new Tensor?[config.NumHiddenLayers];
        _pe = new Tensor?[config.NumHiddenLayers];
    }

    /// <summary>Positions already cached (the next token's position).</summary>
    public int Length { get; private set; }

    public static long BytesPerToken(ModelConfig config, ScalarType dtype) =>
        (long)config.NumHiddenLayers * (config.KvLoraRank + config.QkRopeHeadDim) * ElementSize(dtype);

    static int ElementSize(ScalarType dtype) => dtype switch { ScalarType.Float32 => 4, ScalarType.Float64 => 8, _ => 2 };

    /// <summary>Writes positions [start, start + n) of one layer; returns views of positions [0, start + n).</summary>
    public (Tensor Latent, Tensor Pe) Write(int layer, int start, Tensor latent, Tensor pe) // [n, c], [n, r]
    {
        int end = start + (int)latent.shape[0];
        if (start > Length) throw new InvalidOperationException($"cache write at {start} leaves a gap after {Length}");
        if (end > _config.MaxPositionEmbeddings)
            throw new ContextLengthException(end, _config.MaxPositionEmbeddings);
        EnsureCapacity(end);
        var latentStore = _latent[layer] ??= Allocate(_config.KvLoraRank);
        var peStore = _pe[layer] ??= Allocate(_config.QkRopeHeadDim);
        using (var target = latentStore.narrow(0, start, end - start)) target.copy_(latent);
        using (var target = peStore.narrow(0, start, end - start)) target.copy_(pe);
        return (latentStore.narrow(0, 0, end), peStore.narrow(0, 0, end)); // [end, c], [end, r]
    }

    /// <summary>Marks positions below <paramref name="length"/> as valid after a forward step wrote every layer.</summary>
    public void Commit(int length) => Length = length;

    /// <summary>Forgets positions at and after <paramref name="length"/> (e.g. to reuse a prompt prefix).</summary>
    public void Truncate(int length) => Length = Math.Min(Length, Math.Max(length, 0));

    Tensor Allocate(int width)
    {
        using var _ = NewDisposeScope();
        return zeros([_capacity, width], _options.ComputeDtype, _options.Device).DetachFromDisposeScope();
    }

    void EnsureCapacity(int needed)
    {
        if (needed <= _capacity) return;
        int capacity = _capacity;
        while (capacity < needed) capacity *= 2;
        capacity = Math.Min(capacity, _config.MaxPositionEmbeddings);
        for (int layer = 0; layer < _latent.Length; layer++)
        {
            _latent[layer] = Grow(_latent[layer], capacity);
            _pe[layer] = Grow(_pe[layer], capacity);
        }
        _capacity = capacity;
    }

    static Tensor? Grow(Tensor? old, int capacity)
    {
        if (old is null) return null;
        using var _ = NewDisposeScope();
        var grown = zeros([capacity, old.shape[1]], old.dtype, old.device);
        using (var head = grown.narrow(0, 0, old.shape[0])) head.copy_(old);
        old.Dispose();
        return grown.DetachFromDisposeScope();
    }

    public void Dispose()
    {
        foreach (var t in _latent) t?.Dispose();
        foreach (var t in _pe) t?.Dispose();
    }
}
