using System.Text.Json;
using System.Text.Json.Serialization;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>
/// The fields /v1/chat/completions and /v1/completions share (OpenAI's names, plus vLLM's sampling
/// extensions). Absent and JSON null are the same; unknown fields are ignored. Fields whose JSON
/// shape varies (a string or a list, an object keyed by token id) stay <see cref="JsonElement"/>s
/// and are read by <see cref="JsonFields"/> during validation.
/// </summary>
public abstract record GenerationRequest
{
    [JsonPropertyName("model")] public string? Model { get; init; }
    [JsonPropertyName("temperature")] public double? Temperature { get; init; }
    [JsonPropertyName("top_p")] public double? TopP { get; init; }
    [JsonPropertyName("top_k")] public int? TopK { get; init; }
    [JsonPropertyName("min_p")] public double? MinP { get; init; }
    [JsonPropertyName("repetition_penalty")] public double? RepetitionPenalty { get; init; }
    [JsonPropertyName("frequency_penalty")] public double? FrequencyPenalty { get; init; }
    [JsonPropertyName("presence_penalty")] public double? PresencePenalty { get; init; }
    [JsonPropertyName("logit_bias")] public JsonElement? LogitBias { get; init; }
    [JsonPropertyName("seed")] public long? Seed { get; init; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; init; }
    [JsonPropertyName("min_tokens")] public int? MinTokens { get; init; }
    [JsonPropertyName("stop")] public JsonElement? Stop { get; init; }
    [JsonPropertyName("stop_token_ids")] public JsonElement? StopTokenIds { get; init; }
    [JsonPropertyName("ignore_eos")] public bool? IgnoreEos { get; init; }
    [JsonPropertyName("skip_special_tokens")] public bool? SkipSpecialTokens { get; init; }
    [JsonPropertyName("n")] public int? N { get; init; }
    [JsonPropertyName("stream")] public bool? Stream { get; init; }
    [JsonPropertyName("stream_options")] public StreamOptions? StreamOptions { get; init; }
    /// <summary>Text, or JSON by constrained decoding (<see cref="Protocol.ResponseFormat"/>).</summary>
    [JsonPropertyName("response_format")] public ResponseFormat? ResponseFormat { get; init; }
    /// <summary>Accepted, type-checked, unused.</summary>
    [JsonPropertyName("user")] public string? User { get; init; }

    /// <summary>The served model: OpenAI requires "model", vLLM defaults to the served one; other names are 404s.</summary>
    protected ServedModel ResolveModel(ServedModel model) =>
        Model is null || Model == model.Id ? model : throw ApiException.ModelNotFound(Model);

    /// <summary>The sampling parameters, validated; errors name the request's own parameter (max_completion_tokens, top_logprobs).</summary>
    protected SamplingParams Sampling(ServedModel model, int? maxTokens, string maxName, int? logprobs, string logprobsName)
    {
        var sampling = new SamplingParams
        {
            Temperature = (float)(Temperature ?? 1),
            TopP = (float)(TopP ?? 1),
            TopK = TopK ?? 0,
            MinP = (float)(MinP ?? 0),
            RepetitionPenalty = (float)(RepetitionPenalty ?? 1),
            FrequencyPenalty = (float)(FrequencyPenalty ?? 0),
            PresencePenalty = (float)(PresencePenalty ?? 0),
            LogitBias = JsonFields.LogitBias(LogitBias),
            Seed = Seed is { } s ? unchecked((ulong)s) : null,
            MaxTokens = maxTokens,
            MinTokens = MinTokens ?? 0,
            StopTokenIds = JsonFields.IntList(StopTokenIds, "stop_token_ids"),
            IgnoreEos = IgnoreEos ?? false,
            Logprobs = logprobs,
            JsonSchema = ResponseFormat?.Schema(),
        };
        try
        {
            sampling.Validate(model.VocabSize);
        }
        catch (SamplingParamsException e)
        {
            var param = e.ParameterName switch { "logprobs" => logprobsName, "max_tokens" => maxName, var p => p };
            throw ApiException.BadRequest(param == e.ParameterName ? e.Message : e.Message.Replace(e.ParameterName, param, StringComparison.Ordinal), param, "invalid_value");
        }
        return sampling;
    }

    /// <summary>The job: n, streaming, stop strings, and every prompt checked against the context window.</summary>
    protected GenerationJob Job(ServedModel model, GatewayOptions limits, IReadOnlyList<PromptInput> prompts, SamplingParams sampling,
        string maxName, bool echo, int? logprobs, Serving.ChatParsing? parsing = null)
    {
        int n = N ?? 1;
        if (n < 1) throw ApiException.BadRequest($"'n' must be at least 1, got {n}.", "n", "invalid_value");
        if ((long)n * prompts.Count > limits.MaxChoices)
            throw ApiException.BadRequest($"'n' is too large: {n} choices × {prompts.Count} prompt(s) exceeds the limit of {limits.MaxChoices} choices per request.", "n", "invalid_value");
        bool stream = Stream ?? false;
        if (StreamOptions is not null && !stream)
            throw ApiException.BadRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value");
        var stop = JsonFields.Stop(Stop, limits.MaxStopSequences);
        foreach (var p in prompts) CheckContext(model, p.Ids, sampling.MaxTokens, maxName);
        return new GenerationJob
        {
            Model = model,
            Prompts = prompts,
            Sampling = sampling,
            N = n,
            Stop = stop,
            Stream = stream,
            IncludeUsage = StreamOptions?.IncludeUsage ?? false,
            Logprobs = logprobs,
            Echo = echo,
            SkipSpecialTokens = SkipSpecialTokens ?? true,
            Parsing = parsing,
        };
    }

    static void CheckContext(ServedModel model, int[] ids, int? maxTokens, string maxName)
    {
        if (ids.Length == 0) throw ApiException.BadRequest("The prompt is empty.", "prompt", "invalid_value");
        int context = model.ContextLength;
        if (ids.Length >= context)
            throw ApiException.BadRequest($"This model's maximum context length is {context} tokens. However, your request has {ids.Length} input tokens. Please reduce the length of the input.",
                "messages", "context_length_exceeded");
        if (maxTokens is { } max && max > context - ids.Length)
            throw ApiException.BadRequest($"'{maxName}' is too large: {max}. This model's maximum context length is {context} tokens and your request has {ids.Length} input tokens ({max} > {context} - {ids.Length}).",
                maxName, "context_length_exceeded");
    }
}
