using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>OpenAI's <c>response_format</c>: only <c>{"type":"text"}</c> is supported.</summary>
public sealed record ResponseFormat
{
    [JsonPropertyName("type")] public string? Type { get; init; }
}
