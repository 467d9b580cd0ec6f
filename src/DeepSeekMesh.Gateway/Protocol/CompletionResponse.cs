using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>A <c>text_completion</c>: a legacy completion, whole or one streamed chunk (no choices: the usage chunk).</summary>
public sealed record CompletionResponse(
    [property: JsonPropertyName("id"), JsonPropertyOrder(-2)] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<CompletionChoice> Choices,
    [property: JsonPropertyName("usage"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] UsageField Usage)
{
    [JsonPropertyName("object"), JsonPropertyOrder(-1)] public string Object => "text_completion";
}

/// <summary>One choice of a legacy completion.</summary>
public sealed record CompletionChoice(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("text")] string Text,
    [property: JsonPropertyName("logprobs")] CompletionLogprobs? Logprobs,
    [property: JsonPropertyName("finish_reason")] string? FinishReason);
