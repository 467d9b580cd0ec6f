namespace DeepSeekMesh.Sampling;

/// <summary>
/// Per-request sampling parameters, named after the OpenAI completions/chat API and vLLM's
/// <c>SamplingParams</c>. Immutable; build variants with <c>with { ... }</c>.
/// Call <see cref="Validate"/> before constructing a <see cref="Sampler"/>.
/// </summary>
public sealed record SamplingParams
{
    /// <summary>Largest number of top alternatives that can be requested (OpenAI <c>top_logprobs</c>, vLLM <c>max_logprobs</c>).</summary>
    public const int MaxLogprobs = 20;

    /// <summary>Temperatures in (0, 0.01) are raised to this value, as vLLM does, to avoid inf/nan.</summary>
    public const float MinPositiveTemperature = 0.01f;

    /// <summary>Greedy defaults: temperature 0, nothing else.</summary>
    public static SamplingParams Greedy { get; } = new() { Temperature = 0f };

    /// <summary>Softmax temperature, in [0, 2]. 0 means greedy (argmax). Default 1.</summary>
    public float Temperature { get; init; } = 1.0f;

    /// <summary>Nucleus mass, in (0, 1]. 1 disables. Default 1.</summary>
    public float TopP { get; init; } = 1.0f;

    /// <summary>Keep the k most likely tokens; 0 or -1 disable. Default 0.</summary>
    public int TopK { get; init; }

    /// <summary>Drop tokens whose probability is below <c>MinP * p_max</c>, in [0, 1]. 0 disables. Default 0.</summary>
    public float MinP { get; init; }

    /// <summary>vLLM repetition penalty over prompt and output tokens, &gt; 0. 1 disables. Default 1.</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;

    /// <summary>OpenAI frequency penalty over output tokens, in [-2, 2]. Default 0.</summary>
    public float FrequencyPenalty { get; init; }

    /// <summary>OpenAI presence penalty over output tokens, in [-2, 2]. Default 0.</summary>
    public float PresencePenalty { get; init; }

    /// <summary>Token id to bias in [-100, 100], added to the logit before sampling. Null = none.</summary>
    public IReadOnlyDictionary<int, float>? LogitBias { get; init; }

    /// <summary>Seed for the per-request PRNG; the same seed and inputs give the same tokens. Null = random seed.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Maximum number of generated tokens, &gt;= 1. Null = no limit here (the engine caps by context).</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Minimum number of generated tokens before EOS / stop token ids may be emitted (vLLM <c>min_tokens</c>). Default 0.</summary>
    public int MinTokens { get; init; }

    /// <summary>Token ids that end generation (always honoured, even with <see cref="IgnoreEos"/>).</summary>
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];

    /// <summary>When true, the model's EOS token ids do not stop generation (vLLM <c>ignore_eos</c>).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Number of top alternatives to return with each token, in [0, 20]. 0 = only the chosen token's logprob; null = no logprobs.</summary>
    public int? Logprobs { get; init; }

    /// <summary>
    /// Constrained decoding: the output is JSON valid against this JSON Schema (compact text), the only tokens
    /// sampled are those that continue such output, and the output is complete by <see cref="MaxTokens"/>.
    /// OpenAI's <c>json_object</c> is <see cref="Structured.ByteAutomaton.JsonObjectSchema"/>. Null = free text.
    /// </summary>
    public string? JsonSchema { get; init; }

    /// <summary>True when the request decodes greedily (temperature exactly 0, as in vLLM).</summary>
    public bool IsGreedy => Temperature == 0f;

    /// <summary>
    /// Throws <see cref="SamplingParamsException"/> naming the first invalid parameter and its allowed range.
    /// Ranges follow the OpenAI API reference and vLLM's <c>SamplingParams._verify_args</c>.
    /// </summary>
    public void Validate(int vocabSize)
    {
        if (vocabSize < 1)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "vocabSize must be at least 1.");

        if (!(Temperature >= 0f && Temperature <= 2f))
            throw Fail("temperature", $"temperature must be in [0, 2] (0 = greedy), got {Temperature}.");
        if (!(TopP > 0f && TopP <= 1f))
            throw Fail("top_p", $"top_p must be in (0, 1], got {TopP}.");
        if (TopK < -1)
            throw Fail("top_k", $"top_k must be -1 or 0 (disabled) or at least 1, got {TopK}.");
        if (!(MinP >= 0f && MinP <= 1f))
            throw Fail("min_p", $"min_p must be in [0, 1], got {MinP}.");
        if (!(RepetitionPenalty > 0f) || float.IsPositiveInfinity(RepetitionPenalty))
            throw Fail("repetition_penalty", $"repetition_penalty must be a finite number greater than 0, got {RepetitionPenalty}.");
        if (!(FrequencyPenalty >= -2f && FrequencyPenalty <= 2f))
            throw Fail("frequency_penalty", $"frequency_penalty must be in [-2, 2], got {FrequencyPenalty}.");
        if (!(PresencePenalty >= -2f && PresencePenalty <= 2f))
            throw Fail("presence_penalty", $"presence_penalty must be in [-2, 2], got {PresencePenalty}.");
        if (LogitBias is not null)
        {
            foreach (var (tokenId, bias) in LogitBias)
            {
                if ((uint)tokenId >= (uint)vocabSize)
                    throw Fail("logit_bias", $"logit_bias token ids must be in [0, {vocabSize - 1}], got {tokenId}.");
                if (!(bias >= -100f && bias <= 100f))
                    throw Fail("logit_bias", $"logit_bias values must be in [-100, 100], got {bias} for token {tokenId}.");
            }
        }
        if (MaxTokens is { } maxTokens && maxTokens < 1)
            throw Fail("max_tokens", $"max_tokens must be at least 1, got {maxTokens}.");
        if (MinTokens < 0)
            throw Fail("min_tokens", $"min_tokens must be at least 0, got {MinTokens}.");
        if (MaxTokens is { } max && MinTokens > max)
            throw Fail("min_tokens", $"min_tokens must be in [0, max_tokens={max}], got {MinTokens}.");
        if (StopTokenIds is null)
            throw Fail("stop_token_ids", "stop_token_ids must not be null.");
        for (int i = 0; i < StopTokenIds.Count; i++)
        {
            int id = StopTokenIds[i];
            if ((uint)id >= (uint)vocabSize)
                throw Fail("stop_token_ids", $"stop_token_ids must be in [0, {vocabSize - 1}], got {id}.");
        }
        if (Logprobs is { } lp && (lp < 0 || lp > MaxLogprobs))
            throw Fail("logprobs", $"logprobs must be in [0, {MaxLogprobs}], got {lp}.");
        if (JsonSchema is not null)
        {
            var automaton = Structured.ByteAutomaton.FromSchema(JsonSchema); // throws naming what is not supported
            if (MinTokens > 0)
                throw Fail("min_tokens", "min_tokens must be 0 with a JSON response_format (the output ends when the JSON is complete).");
            int shortest = automaton.MinBytesToAccept(Structured.ByteAutomaton.Start);
            if (MaxTokens is { } limit && limit < shortest)
                throw Fail("max_tokens", $"max_tokens must be at least {shortest} for this response_format: its shortest valid output is {shortest} bytes (one token each at worst), got {limit}.");
        }
    }

    private static SamplingParamsException Fail(string parameter, string message) => new(parameter, message);
}

/// <summary>An invalid sampling parameter; <see cref="ParameterName"/> is the OpenAI/vLLM name (e.g. <c>top_p</c>).</summary>
public sealed class SamplingParamsException : Exception
{
    public SamplingParamsException(string parameterName, string message) : base(message)
    {
        ParameterName = parameterName;
    }

    /// <summary>The offending parameter's API name, e.g. <c>temperature</c>.</summary>
    public string ParameterName { get; }
}
