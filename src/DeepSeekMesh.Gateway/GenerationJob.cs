using System.Text.Json;
using DeepSeekMesh.ChatTemplates;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Text;

namespace DeepSeekMesh.Gateway;

/// <summary>One prompt, tokenized, and the text to echo for it (legacy completions).</summary>
public sealed record PromptInput(int[] Ids, string EchoText);

/// <summary>A validated, tokenized request: what the gateway asks the cluster for, and how to render the answer.</summary>
public sealed class GenerationJob
{
    public required ServedModel Model { get; init; }
    public required IReadOnlyList<PromptInput> Prompts { get; init; }
    public required SamplingParams Sampling { get; init; }
    public int N { get; init; } = 1;
    public IReadOnlyList<string> Stop { get; init; } = [];
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    /// <summary>Null: no logprobs. Otherwise the number of top alternatives per token (0 = the chosen token only).</summary>
    public int? Logprobs { get; init; }
    public bool Echo { get; init; }
    public bool SkipSpecialTokens { get; init; } = true;
    public int Choices => Prompts.Count * N;
    public int PromptTokens => Prompts.Sum(p => p.Ids.Length);

    /// <summary>Tokens charged against a tokens-per-minute limit: every choice's prompt plus its max_tokens.</summary>
    public long ChargedTokens => (long)N * Prompts.Sum(p => (long)p.Ids.Length + (Sampling.MaxTokens ?? 0));

    /// <summary>The sampling parameters of choice <paramref name="choice"/>: each choice gets its own seed (seed + choice).</summary>
    public SamplingParams SamplingFor(int choice) =>
        choice == 0 || Sampling.Seed is null ? Sampling : Sampling with { Seed = unchecked(Sampling.Seed.Value + (ulong)choice) };
}

/// <summary>Request bodies of /v1/chat/completions and /v1/completions to <see cref="GenerationJob"/>s, validated as OpenAI and vLLM do.</summary>
public static class RequestParser
{
    public static ServedModel ResolveModel(RequestBody body, ServedModel model)
    {
        var name = body.String("model");
        // OpenAI requires "model"; vLLM defaults to the served model. Accept both; reject other names.
        if (name is not null && name != model.Id) throw ApiException.ModelNotFound(name);
        return model;
    }

    public static GenerationJob Chat(RequestBody body, ServedModel model, GatewayOptions limits)
    {
        model = ResolveModel(body, model);
        if (body.Get("messages") is not { } messagesJson) throw ApiException.BadRequest("'messages' is a required property.", "messages", "missing_required_parameter");
        IReadOnlyList<ChatMessage> messages;
        try
        {
            messages = ChatMessagesJson.Parse(messagesJson);
        }
        catch (FormatException e)
        {
            throw ApiException.BadRequest($"Invalid 'messages': {e.Message}.", "messages", "invalid_value");
        }
        IReadOnlyList<object?>? tools = null;
        if (body.Get("tools") is { } t)
        {
            if (t.ValueKind != JsonValueKind.Array) throw ApiException.InvalidType("tools", "an array", t);
            tools = t.EnumerateArray().Select(x => (object?)x.Clone()).ToArray();
        }
        CheckResponseFormat(body);
        int[] ids;
        try
        {
            var codec = model.Codec;
            ids = tools is null ? codec.EncodeChat(messages) : codec.Tokenizer.Encode(codec.RenderChat(messages, true, tools), addBos: false);
        }
        catch (TemplateException e)
        {
            throw ApiException.BadRequest($"The chat template rejected the messages: {e.Message}", "messages", "invalid_value");
        }
        catch (InvalidOperationException e)
        {
            throw ApiException.BadRequest(e.Message, "messages");
        }

        bool logprobs = body.Bool("logprobs") ?? false;
        int? top = body.Int("top_logprobs");
        if (top is not null && !logprobs)
            throw ApiException.BadRequest("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs", "invalid_value");
        int? maxTokens = body.Int("max_completion_tokens") ?? body.Int("max_tokens");
        string maxName = body.Get("max_completion_tokens") is not null ? "max_completion_tokens" : "max_tokens";
        var sampling = Sampling(body, model, maxTokens, maxName, logprobs ? top ?? 0 : null, logprobsName: "top_logprobs");
        return Finish(body, model, limits, [new PromptInput(ids, "")], sampling, maxName, echo: false, logprobs ? top ?? 0 : null);
    }

    public static GenerationJob Completion(RequestBody body, ServedModel model, GatewayOptions limits)
    {
        model = ResolveModel(body, model);
        if (body.Get("suffix") is { } suffix && !(suffix.ValueKind == JsonValueKind.String && suffix.GetString()!.Length == 0))
            throw ApiException.BadRequest("'suffix' is not supported by this model.", "suffix", "unsupported_parameter");
        var prompts = Prompts(body, model);
        int? logprobs = body.Int("logprobs");
        // Legacy completions default to 16 tokens (OpenAI and vLLM).
        int? maxTokens = body.Get("max_tokens") is null ? 16 : body.Int("max_tokens");
        var sampling = Sampling(body, model, maxTokens, "max_tokens", logprobs, logprobsName: "logprobs");
        if (body.Int("best_of") is { } bestOf && bestOf != (body.Int("n") ?? 1))
            throw ApiException.BadRequest("'best_of' other than 'n' is not supported.", "best_of", "unsupported_parameter");
        return Finish(body, model, limits, prompts, sampling, "max_tokens", body.Bool("echo") ?? false, logprobs);
    }

    static GenerationJob Finish(RequestBody body, ServedModel model, GatewayOptions limits, IReadOnlyList<PromptInput> prompts, SamplingParams sampling,
        string maxName, bool echo, int? logprobs)
    {
        int n = body.Int("n") ?? 1;
        if (n < 1) throw ApiException.BadRequest($"'n' must be at least 1, got {n}.", "n", "invalid_value");
        if ((long)n * prompts.Count > limits.MaxChoices)
            throw ApiException.BadRequest($"'n' is too large: {n} choices × {prompts.Count} prompt(s) exceeds the limit of {limits.MaxChoices} choices per request.", "n", "invalid_value");
        bool stream = body.Bool("stream") ?? false;
        bool includeUsage = false;
        if (body.Get("stream_options") is { } so)
        {
            if (!stream) throw ApiException.BadRequest("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options", "invalid_value");
            if (so.ValueKind != JsonValueKind.Object) throw ApiException.InvalidType("stream_options", "an object", so);
            includeUsage = new RequestBody(so).Bool("include_usage") ?? false;
        }
        body.String("user"); // accepted, type-checked, unused
        var stop = body.Stop(limits.MaxStopSequences);
        foreach (var p in prompts) CheckContext(model, p.Ids, sampling.MaxTokens, maxName);
        return new GenerationJob
        {
            Model = model,
            Prompts = prompts,
            Sampling = sampling,
            N = n,
            Stop = stop,
            Stream = stream,
            IncludeUsage = includeUsage,
            Logprobs = logprobs,
            Echo = echo,
            SkipSpecialTokens = body.Bool("skip_special_tokens") ?? true,
        };
    }

    static void CheckResponseFormat(RequestBody body)
    {
        if (body.Get("response_format") is not { } rf) return;
        if (rf.ValueKind != JsonValueKind.Object) throw ApiException.InvalidType("response_format", "an object", rf);
        var type = new RequestBody(rf).String("type");
        if (type is not (null or "text"))
            throw ApiException.BadRequest($"response_format type '{type}' is not supported; only 'text' is.", "response_format", "unsupported_parameter");
    }

    static SamplingParams Sampling(RequestBody body, ServedModel model, int? maxTokens, string maxName, int? logprobs, string logprobsName)
    {
        long? seed = body.Long("seed");
        var sampling = new SamplingParams
        {
            Temperature = body.Float("temperature") ?? 1f,
            TopP = body.Float("top_p") ?? 1f,
            TopK = body.Int("top_k") ?? 0,
            MinP = body.Float("min_p") ?? 0f,
            RepetitionPenalty = body.Float("repetition_penalty") ?? 1f,
            FrequencyPenalty = body.Float("frequency_penalty") ?? 0f,
            PresencePenalty = body.Float("presence_penalty") ?? 0f,
            LogitBias = body.LogitBias(),
            Seed = seed is { } s ? unchecked((ulong)s) : null,
            MaxTokens = maxTokens,
            MinTokens = body.Int("min_tokens") ?? 0,
            StopTokenIds = body.IntList("stop_token_ids"),
            IgnoreEos = body.Bool("ignore_eos") ?? false,
            Logprobs = logprobs,
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

    /// <summary>The completions <c>prompt</c>: a string, a list of strings, a list of token ids, or a list of lists of token ids.</summary>
    static List<PromptInput> Prompts(RequestBody body, ServedModel model)
    {
        if (body.Get("prompt") is not { } p) throw ApiException.BadRequest("'prompt' is a required property.", "prompt", "missing_required_parameter");
        var codec = model.Codec;
        var tokenizer = codec.Tokenizer;
        PromptInput FromText(string text) => new(codec.EncodePrompt(text), text);
        PromptInput FromIds(JsonElement list)
        {
            var ids = new int[list.GetArrayLength()];
            int i = 0;
            foreach (var e in list.EnumerateArray())
            {
                int id = e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v) ? v
                    : throw ApiException.InvalidType("prompt", "a string, an array of strings, an array of token ids or an array of arrays of token ids", e);
                if (id < 0 || id >= model.VocabSize)
                    throw ApiException.BadRequest($"Token id {id} in 'prompt' is out of vocabulary (valid: 0 to {model.VocabSize - 1}).", "prompt", "invalid_value");
                ids[i++] = id;
            }
            return new PromptInput(ids, tokenizer.Decode(ids));
        }
        switch (p.ValueKind)
        {
            case JsonValueKind.String:
                return [FromText(p.GetString()!)];
            case JsonValueKind.Array when p.GetArrayLength() == 0:
                throw ApiException.BadRequest("The prompt is empty.", "prompt", "invalid_value");
            case JsonValueKind.Array:
                var first = p[0].ValueKind;
                if (first == JsonValueKind.Number) return [FromIds(p)];
                var prompts = new List<PromptInput>();
                foreach (var e in p.EnumerateArray())
                {
                    if (e.ValueKind != first) throw ApiException.InvalidType("prompt", first == JsonValueKind.String ? "an array of strings" : "an array of arrays of token ids", e);
                    prompts.Add(e.ValueKind switch
                    {
                        JsonValueKind.String => FromText(e.GetString()!),
                        JsonValueKind.Array => FromIds(e),
                        _ => throw ApiException.InvalidType("prompt", "a string, an array of strings, an array of token ids or an array of arrays of token ids", e),
                    });
                }
                return prompts;
            default:
                throw ApiException.InvalidType("prompt", "a string, an array of strings, an array of token ids or an array of arrays of token ids", p);
        }
    }
}
