namespace DeepSeekMesh.Model.Engine;

/// <summary>Capacity settings of an <see cref="InferenceEngine"/>.</summary>
public sealed record EngineOptions
{
    /// <summary>Latent KV cache blocks in the shared pool; admission waits for free blocks.</summary>
    public int CacheBlocks { get; init; } = 2048;
    /// <summary>Positions per cache block.</summary>
    public int BlockSize { get; init; } = 16;
    /// <summary>Prompt tokens per step across all prefilling sequences (chunked prefill); decodes always run.</summary>
    public int MaxBatchTokens { get; init; } = 256;
    /// <summary>Sequences generating at once.</summary>
    public int MaxRunningSequences { get; init; } = 64;
    /// <summary>Requests waiting for admission before new ones are refused (the gateway answers 429).</summary>
    public int MaxWaitingRequests { get; init; } = 256;
    /// <summary>
    /// Automatic prefix caching (vLLM's, on by default there too): full cache blocks are kept by the hash of
    /// their tokens and every token before them, and a new request reuses the longest cached prompt prefix.
    /// Outputs are the same with it on or off.
    /// </summary>
    public bool EnablePrefixCaching { get; init; } = true;
}

/// <summary>A tokenized request for the engine.</summary>
public sealed record EngineRequest(IReadOnlyList<int> Prompt, DeepSeekMesh.Sampling.SamplingParams Sampling);

/// <summary>What the engine is doing now.</summary>
public sealed record EngineStats(int Running, int Waiting, int CacheBlocksUsed, int CacheBlocksTotal, long StepsRun, long TokensGenerated)
{
    /// <summary>Blocks holding a cached prefix (in use or free and evictable).</summary>
    public int CacheBlocksCached { get; init; }
    /// <summary>Prompt tokens of admitted requests, and those of them read from the prefix cache instead of computed.</summary>
    public long PromptTokens { get; init; }
    public long CachedPromptTokens { get; init; }
}

/// <summary>The waiting queue is full: retry later.</summary>
public sealed class EngineOverloadedException(int waiting)
    : Exception($"the engine is saturated ({waiting} requests waiting); retry later");

/// <summary>A request that can never fit: prompt + max_tokens exceeds the context or the whole cache.</summary>
public sealed class RequestTooLargeException(string message) : Exception(message);
