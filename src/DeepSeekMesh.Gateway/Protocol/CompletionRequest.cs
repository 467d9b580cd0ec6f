using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>The body of POST /v1/completions (OpenAI's legacy completions).</summary>
public sealed record CompletionRequest : GenerationRequest
{
    /// <summary>A string, a list of strings, a list of token ids, or a list of lists of token ids.</summary>
    [JsonPropertyName("prompt")] public JsonElement? Prompt { get; init; }
    /// <summary>Only absent or "" is accepted.</summary>
    [JsonPropertyName("suffix")] public JsonElement? Suffix { get; init; }
    /// <summary>Top alternatives per token (0 = the chosen token only).</summary>
    [JsonPropertyName("logprobs")] public int? Logprobs { get; init; }
    [JsonPropertyName("echo")] public bool? Echo { get; init; }
    [JsonPropertyName("best_of")] public int? BestOf { get; init; }

    /// <summary>Validates the request as OpenAI and vLLM do and tokenizes its prompts.</summary>
    public GenerationJob Validate(ServedModel model, GatewayOptions limits)
    {
        model = ResolveModel(model);
        if (Suffix is { } suffix && !(suffix.ValueKind == JsonValueKind.String && suffix.GetString()!.Length == 0))
            throw ApiException.BadRequest("'suffix' is not supported by this model.", "suffix", "unsupported_parameter");
        if (Prompt is not { } prompt) throw ApiException.BadRequest("'prompt' is a required property.", "prompt", "missing_required_parameter");
        var prompts = new PromptReader(model).Read(prompt);
        // Legacy completions default to 16 tokens (OpenAI and vLLM).
        var sampling = Sampling(model, MaxTokens ?? 16, "max_tokens", Logprobs, logprobsName: "logprobs");
        if (BestOf is { } bestOf && bestOf != (N ?? 1))
            throw ApiException.BadRequest("'best_of' other than 'n' is not supported.", "best_of", "unsupported_parameter");
        return Job(model, limits, prompts, sampling, "max_tokens", Echo ?? false, Logprobs);
    }
}
