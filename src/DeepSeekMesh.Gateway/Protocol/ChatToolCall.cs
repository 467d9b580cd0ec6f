using System.Text.Json.Serialization;
using DeepSeekMesh.Text.Agents;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>A tool call in an assistant message: <c>{"id","type":"function","function":{"name","arguments"}}</c>.</summary>
public sealed record ChatToolCall(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("function")] ChatFunctionCall Function)
{
    public static ChatToolCall From(ParsedToolCall call) => new(call.Id, call.Type, new ChatFunctionCall(call.Name, call.Arguments));
}

/// <summary>The function called and its arguments as JSON text.</summary>
public sealed record ChatFunctionCall(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] string Arguments);
