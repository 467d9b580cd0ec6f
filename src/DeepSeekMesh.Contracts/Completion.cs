using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Contracts;

/// <summary>
/// A tokenized completion request as the gateway sends it to a frontend silo: the prompt's token
/// ids and the sampling fields of <see cref="SamplingParams"/> (same names, ranges and defaults).
/// </summary>
[GenerateSerializer, Immutable, Alias("dsm.CompletionRequest")]
public sealed class CompletionRequest
{
    [Id(0)] public int[] Prompt { get; init; } = [];
    [Id(1)] public float Temperature { get; init; } = 1.0f;
    [Id(2)] public float TopP { get; init; } = 1.0f;
    [Id(3)] public int TopK { get; init; }
    [Id(4)] public float MinP { get; init; }
    [Id(5)] public float RepetitionPenalty { get; init; } = 1.0f;
    [Id(6)] public float FrequencyPenalty { get; init; }
    [Id(7)] public float PresencePenalty { get; init; }
    /// <summary>Token id → bias; null for none.</summary>
    [Id(8)] public Dictionary<int, float>? LogitBias { get; init; }
    [Id(9)] public ulong? Seed { get; init; }
    [Id(10)] public int? MaxTokens { get; init; }
    [Id(11)] public int MinTokens { get; init; }
    [Id(12)] public int[] StopTokenIds { get; init; } = [];
    [Id(13)] public bool IgnoreEos { get; init; }
    [Id(14)] public int? Logprobs { get; init; }

    public SamplingParams ToSamplingParams() => new()
    {
        Temperature = Temperature,
        TopP = TopP,
        TopK = TopK,
        MinP = MinP,
        RepetitionPenalty = RepetitionPenalty,
        FrequencyPenalty = FrequencyPenalty,
        PresencePenalty = PresencePenalty,
        LogitBias = LogitBias is null ? null : new Dictionary<int, float>(LogitBias),
        Seed = Seed,
        MaxTokens = MaxTokens,
        MinTokens = MinTokens,
        StopTokenIds = StopTokenIds.ToArray(),
        IgnoreEos = IgnoreEos,
        Logprobs = Logprobs,
    };

    public static CompletionRequest From(IReadOnlyList<int> prompt, SamplingParams sampling) => new()
    {
        Prompt = prompt.ToArray(),
        Temperature = sampling.Temperature,
        TopP = sampling.TopP,
        TopK = sampling.TopK,
        MinP = sampling.MinP,
        RepetitionPenalty = sampling.RepetitionPenalty,
        FrequencyPenalty = sampling.FrequencyPenalty,
        PresencePenalty = sampling.PresencePenalty,
        LogitBias = sampling.LogitBias is null ? null : new Dictionary<int, float>(sampling.LogitBias),
        Seed = sampling.Seed,
        MaxTokens = sampling.MaxTokens,
        MinTokens = sampling.MinTokens,
        StopTokenIds = sampling.StopTokenIds.ToArray(),
        IgnoreEos = sampling.IgnoreEos,
        Logprobs = sampling.Logprobs,
    };
}

/// <summary>Why a sequence ended after a token (mirrors <see cref="Sampling.FinishReason"/>).</summary>
[GenerateSerializer, Alias("dsm.CompletionFinish")]
public enum CompletionFinish : byte
{
    None = 0,
    /// <summary>A stop token id or EOS: OpenAI "stop".</summary>
    Stop = 1,
    /// <summary>max_tokens or the context window: OpenAI "length".</summary>
    Length = 2,
}

/// <summary>One alternative token and its log-probability.</summary>
[GenerateSerializer, Immutable, Alias("dsm.TokenAlternative")]
public readonly record struct TokenAlternative([property: Id(0)] int TokenId, [property: Id(1)] float Logprob);

/// <summary>One generated token as it streams from a completion grain.</summary>
[GenerateSerializer, Immutable, Alias("dsm.GeneratedToken")]
public sealed class GeneratedToken
{
    [Id(0)] public int TokenId { get; init; }
    /// <summary>Log-probability under the raw logits; NaN when logprobs were not requested.</summary>
    [Id(1)] public float Logprob { get; init; } = float.NaN;
    /// <summary>1-based rank among the raw logits; 0 when logprobs were not requested.</summary>
    [Id(2)] public int Rank { get; init; }
    [Id(3)] public TokenAlternative[] TopLogprobs { get; init; } = [];
    [Id(4)] public bool IsStopToken { get; init; }
    [Id(5)] public CompletionFinish FinishReason { get; init; }

    public static GeneratedToken From(SampledToken token) => new()
    {
        TokenId = token.TokenId,
        Logprob = token.Logprob,
        Rank = token.Rank,
        TopLogprobs = token.TopLogprobs.Select(t => new TokenAlternative(t.TokenId, t.Logprob)).ToArray(),
        IsStopToken = token.IsStopToken,
        FinishReason = (CompletionFinish)token.FinishReason,
    };

    public override string ToString() => $"{TokenId} ({FinishReason})";
}

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

/// <summary>A completion request refused by the frontend; crosses the wire with its reason.</summary>
[GenerateSerializer, Alias("dsm.CompletionRejectedException")]
public sealed class CompletionRejectedException : Exception
{
    public CompletionRejectedException(CompletionRejection reason, string message, string? parameter = null) : base(message)
    {
        Reason = reason;
        Parameter = parameter;
    }

    [Id(0)] public CompletionRejection Reason { get; private set; }
    /// <summary>The OpenAI/vLLM name of the invalid parameter (e.g. <c>top_p</c>), when there is one.</summary>
    [Id(1)] public string? Parameter { get; private set; }
}
