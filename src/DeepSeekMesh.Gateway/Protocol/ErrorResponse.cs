using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>OpenAI's error body: <c>{"error":{"message","type","param","code"}}</c>.</summary>
public sealed record ErrorResponse([property: JsonPropertyName("error")] ErrorInfo Error);

/// <summary>What went wrong, and which parameter (if one) caused it.</summary>
public sealed record ErrorInfo(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);
