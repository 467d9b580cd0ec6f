using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>The WebSocket's last message of a chat completion: every choice's finish reason and the usage.</summary>
public sealed record ChatCompletionDone(
    [property: JsonPropertyName("id"), JsonPropertyOrder(-2)] string Id,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChoiceFinish> Choices,
    [property: JsonPropertyName("usage")] Usage Usage)
{
    [JsonPropertyName("object"), JsonPropertyOrder(-1)] public string Object => "chat.completion.done";
}

/// <summary>How one choice ended.</summary>
public sealed record ChoiceFinish(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("finish_reason")] string FinishReason);
