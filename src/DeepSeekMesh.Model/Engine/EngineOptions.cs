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
}

/// <summary>A tokenized request for the engine.</summary>
public sealed record EngineRequest(IReadOnlyList<int> Prompt, DeepSeekMesh.Sampling.SamplingParams Sampling);

/// <summary>What the engine is doing now.</summary>
public sealed record EngineStats(int Running, int Waiting, int CacheBlocksUsed, int CacheBlocksTotal, long StepsRun, long TokensGenerated);

/// <summary>The waiting queue is full: retry later.</summary>
public sealed class EngineOverloadedException(int waiting)
    : Exception($"the engine is saturated ({waiting} requests waiting); retry later");

/// <summary>A request that can never fit: prompt + max_tokens exceeds the context or the whole cache.</summary>
public sealed class RequestTooLargeException(string message) : Exception(message);
