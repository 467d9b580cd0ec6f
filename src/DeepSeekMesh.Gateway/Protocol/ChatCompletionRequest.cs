using System.Text.Json;
using System.Text.Json.Serialization;
using DeepSeekMesh.ChatTemplates;
using DeepSeekMesh.Text;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>The body of POST /v1/chat/completions (and of each WebSocket message).</summary>
public sealed record ChatCompletionRequest : GenerationRequest
{
    /// <summary>The conversation; parsed by <see cref="ChatMessagesJson"/> (roles, content parts, tool calls).</summary>
    [JsonPropertyName("messages")] public JsonElement? Messages { get; init; }
    /// <summary>Tool definitions handed to the chat template as they are.</summary>
    [JsonPropertyName("tools")] public JsonElement? Tools { get; init; }
    [JsonPropertyName("response_format")] public ResponseFormat? ResponseFormat { get; init; }
    [JsonPropertyName("logprobs")] public bool? Logprobs { get; init; }
    [JsonPropertyName("top_logprobs")] public int? TopLogprobs { get; init; }
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; init; }

    /// <summary>Validates the request as OpenAI and vLLM do and renders and tokenizes the conversation.</summary>
    public GenerationJob Validate(ServedModel model, GatewayOptions limits)
    {
        model = ResolveModel(model);
        if (Messages is not { } messagesJson) throw ApiException.BadRequest("'messages' is a required property.", "messages", "missing_required_parameter");
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
        if (Tools is { } t)
        {
            if (t.ValueKind != JsonValueKind.Array) throw ApiException.InvalidType("tools", "an array", t);
            tools = t.EnumerateArray().Select(x => (object?)x.Clone()).ToArray();
        }
        if (ResponseFormat?.Type is not (null or "text") and var type)
            throw ApiException.BadRequest($"response_format type '{type}' is not supported; only 'text' is.", "response_format", "unsupported_parameter");
        int[] ids = Tokenize(model.Codec, messages, tools);

        bool logprobs = Logprobs ?? false;
        if (TopLogprobs is not null && !logprobs)
            throw ApiException.BadRequest("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs", "invalid_value");
        int? top = logprobs ? TopLogprobs ?? 0 : null;
        string maxName = MaxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens";
        var sampling = Sampling(model, MaxCompletionTokens ?? MaxTokens, maxName, top, logprobsName: "top_logprobs");
        return Job(model, limits, [new PromptInput(ids, "")], sampling, maxName, echo: false, top);
    }

    static int[] Tokenize(TextCodec codec, IReadOnlyList<ChatMessage> messages, IReadOnlyList<object?>? tools)
    {
        try
        {
            return tools is null ? codec.EncodeChat(messages) : codec.Tokenizer.Encode(codec.RenderChat(messages, true, tools), addBos: false);
        }
        catch (TemplateException e)
        {
            throw ApiException.BadRequest($"The chat template rejected the messages: {e.Message}", "messages", "invalid_value");
        }
        catch (InvalidOperationException e)
        {
            throw ApiException.BadRequest(e.Message, "messages");
        }
    }
}
