namespace DeepSeekMesh.Contracts;

/// <summary>Why a completion request was refused before any token was generated.</summary>
[GenerateSerializer, Alias("dsm.CompletionRejection")]
public enum CompletionRejection : byte
{
    /// <summary>The frontend's waiting queue is full: HTTP 429 with Retry-After.</summary>
    Overloaded = 0,
    /// <summary>Prompt plus max_tokens can never fit the KV cache or the context window: HTTP 400.</summary>
    TooLarge = 1,
    /// <summary>A sampling parameter or the prompt is invalid (<see cref="CompletionRejectedException.Parameter"/> names it): HTTP 400.</summary>
    InvalidRequest = 2,
    /// <summary>This silo serves no completions (no engine: an expert silo): retry elsewhere.</summary>
    NoEngine = 3,
}
