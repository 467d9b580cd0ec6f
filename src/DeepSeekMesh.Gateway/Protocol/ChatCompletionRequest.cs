using System.Text.Json;
using System.Text.Json.Serialization;
using DeepSeekMesh.ChatTemplates;
using DeepSeekMesh.Gateway.Serving;
using DeepSeekMesh.Text;
using DeepSeekMesh.Text.Agents;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>The body of POST /v1/chat/completions (and of each WebSocket message).</summary>
public sealed record ChatCompletionRequest : GenerationRequest
{
    /// <summary>The conversation; parsed by <see cref="ChatMessagesJson"/> (roles, content parts, tool calls).</summary>
    [JsonPropertyName("messages")] public JsonElement? Messages { get; init; }
    /// <summary>OpenAI's function tools; read by <see cref="ChatTools"/> with <see cref="ToolChoice"/> and <see cref="ParallelToolCalls"/>.</summary>
    [JsonPropertyName("tools")] public JsonElement? Tools { get; init; }
    /// <summary><c>none</c>, <c>auto</c>, <c>required</c> or <c>{"type":"function","function":{"name"}}</c>.</summary>
    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; init; }
    [JsonPropertyName("parallel_tool_calls")] public bool? ParallelToolCalls { get; init; }
    /// <summary>SGLang's switch: split reasoning into <c>reasoning_content</c> (default: the server's <see cref="GatewayOptions.Reasoning"/>).</summary>
    [JsonPropertyName("separate_reasoning")] public bool? SeparateReasoning { get; init; }
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
        var tools = ChatTools.Read(Tools, ToolChoice, ParallelToolCalls);
        string? schema = ResponseFormat?.Schema();
        // JSON output is constrained from its first token: no tool call (those need special tokens) and no reasoning.
        if (schema is not null && tools?.Required is not null)
            throw ApiException.BadRequest("'response_format' json_object/json_schema cannot be combined with a 'tool_choice' that requires a tool call.", "response_format", "invalid_value");
        bool reasoning = schema is null && model.Codec.HasThinkTokens && (SeparateReasoning ?? limits.Reasoning);
        int[] ids = Tokenize(model.Codec, messages, tools);

        bool logprobs = Logprobs ?? false;
        if (TopLogprobs is not null && !logprobs)
            throw ApiException.BadRequest("'top_logprobs' requires 'logprobs' to be true.", "top_logprobs", "invalid_value");
        int? top = logprobs ? TopLogprobs ?? 0 : null;
        string maxName = MaxCompletionTokens is not null ? "max_completion_tokens" : "max_tokens";
        var sampling = Sampling(model, MaxCompletionTokens ?? MaxTokens, maxName, top, logprobsName: "top_logprobs");
        bool opened = reasoning && model.Codec.Tokenizer.Decode(ids[^Math.Min(3, ids.Length)..]).TrimEnd().EndsWith(ReasoningParser.StartTag, StringComparison.Ordinal);
        var parsing = reasoning || (tools is not null && schema is null) ? new ChatParsing(reasoning, tools is not null && schema is null, tools?.Parallel ?? true, opened) : null;
        return Job(model, limits, [new PromptInput(ids, "")], sampling, maxName, echo: false, top, parsing);
    }

    /// <summary>
    /// The conversation as token ids. Tools go to a template that reads <c>tools</c>; for one that does not
    /// (DeepSeek-V3's) they become a system-prompt section (<see cref="DeepSeekToolPrompt"/>) after the
    /// conversation's own system messages, and an assistant turn with tool calls loses its content (that
    /// template would otherwise drop the calls).
    /// </summary>
    static int[] Tokenize(TextCodec codec, IReadOnlyList<ChatMessage> messages, ChatTools? tools)
    {
        try
        {
            // DeepSeek-V3's template writes an assistant turn's tool calls only when its content is None: keep the calls.
            if (!codec.TemplateTakesTools)
                messages = messages.Select(m => m is { Role: "assistant", ToolCalls.Count: > 0, Content: not null } ? m with { Content = null } : m).ToList();
            if (tools is null) return codec.EncodeChat(messages);
            if (codec.TemplateTakesTools) return codec.Tokenizer.Encode(codec.RenderChat(messages, true, tools.Definitions), addBos: false);
            int leading = messages.TakeWhile(m => m.Role == "system").Count();
            var section = ChatMessage.System(DeepSeekToolPrompt.Render(tools.Functions, tools.Required, tools.Parallel));
            return codec.EncodeChat([.. messages.Take(leading), section, .. messages.Skip(leading)]);
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
