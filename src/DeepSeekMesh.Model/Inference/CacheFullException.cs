namespace DeepSeekMesh.Model.Inference;

/// <summary>A sequence needs more cache blocks than its pool has free.</summary>
public sealed class CacheFullException(int needed, int free)
    : Exception($"KV cache full: {needed} more blocks needed, {free} free");
