using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>A <c>chat.completion</c>: the whole answer of a non-streamed chat completion.</summary>
public sealed record ChatCompletionResponse(
    [property: JsonPropertyName("id"), JsonPropertyOrder(-2)] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatChoice> Choices,
    [property: JsonPropertyName("usage")] Usage Usage)
{
    [JsonPropertyName("object"), JsonPropertyOrder(-1)] public string Object => "chat.completion";
}

/// <summary>One choice of a chat completion.</summary>
public sealed record ChatChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] AssistantMessage Message,
    [property: JsonPropertyName("logprobs")] ChatLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string FinishReason);

/// <summary>The assistant's message: content (null when it only called tools), DeepSeek's <c>reasoning_content</c> and the tool calls when there are any.</summary>
public sealed record AssistantMessage([property: JsonPropertyName("content")] string? Content)
{
    [JsonPropertyName("role"), JsonPropertyOrder(-1)] public string Role => "assistant";
    [JsonPropertyName("refusal")] public string? Refusal => null;
    [JsonPropertyName("reasoning_content"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ReasoningContent { get; init; }
    [JsonPropertyName("tool_calls"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }
}
