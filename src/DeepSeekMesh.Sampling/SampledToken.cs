namespace DeepSeekMesh.Sampling;

/// <summary>One alternative token and its log-probability.</summary>
public readonly record struct TokenLogprob(int TokenId, float Logprob);

/// <summary>Why a sequence should end after this token.</summary>
public enum FinishReason
{
    /// <summary>Keep generating.</summary>
    None = 0,

    /// <summary>The token is a stop token id (or EOS, unless <see cref="SamplingParams.IgnoreEos"/>): OpenAI <c>"stop"</c>.</summary>
    Stop = 1,

    /// <summary><see cref="SamplingParams.MaxTokens"/> tokens have been generated: OpenAI <c>"length"</c>.</summary>
    Length = 2,
}

/// <summary>
/// The token chosen at one step.
/// <see cref="Logprob"/>, <see cref="Rank"/> and <see cref="TopLogprobs"/> are computed from the model's raw logits
/// (log-softmax before bias, penalties, temperature and truncation: vLLM's default <c>raw_logprobs</c>).
/// </summary>
public readonly record struct SampledToken
{
    /// <summary>The chosen token id.</summary>
    public required int TokenId { get; init; }

    /// <summary>Log-probability of <see cref="TokenId"/> under the raw logits; NaN when logprobs were not requested.</summary>
    public required float Logprob { get; init; }

    /// <summary>1-based rank of <see cref="TokenId"/> among the raw logits (1 = most likely); 0 when logprobs were not requested.</summary>
    public int Rank { get; init; }

    /// <summary>The top-N alternatives, sorted by descending logprob (ties: lower id first); empty when not requested.</summary>
    public required IReadOnlyList<TokenLogprob> TopLogprobs { get; init; }

    /// <summary>True when <see cref="TokenId"/> is a stop token id, or an EOS id while EOS is not ignored.</summary>
    public bool IsStopToken { get; init; }

    /// <summary>Whether the sequence is finished after this token (stop token first, then max_tokens).</summary>
    public FinishReason FinishReason { get; init; }

    /// <summary>
    /// On a sequence's first token: how many prompt tokens the engine read from its prefix cache instead of
    /// computing (OpenAI's <c>usage.prompt_tokens_details.cached_tokens</c>); 0 on every later token.
    /// </summary>
    public int CachedPromptTokens { get; init; }
}
