using System.Text.Json.Serialization;
using DeepSeekMesh.Text.Agents;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>
/// A streamed tool call, as OpenAI streams them: the first delta of call <see cref="Index"/> carries its
/// id, type and name (and empty arguments), later deltas append to its arguments.
/// </summary>
public sealed record ChatToolCallDelta(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("id"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Id,
    [property: JsonPropertyName("type"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Type,
    [property: JsonPropertyName("function")] ChatFunctionCallDelta Function)
{
    /// <summary>The opening delta: id, type, name.</summary>
    public static ChatToolCallDelta Start(ParsedToolCall call) => new(call.Index, call.Id, call.Type, new ChatFunctionCallDelta(call.Name, ""));

    /// <summary>An arguments delta.</summary>
    public static ChatToolCallDelta Arguments(ParsedToolCall call) => new(call.Index, null, null, new ChatFunctionCallDelta(null, call.Arguments));

    /// <summary>The whole call in one delta (the WebSocket's chunks).</summary>
    public static ChatToolCallDelta Whole(ParsedToolCall call) => new(call.Index, call.Id, call.Type, new ChatFunctionCallDelta(call.Name, call.Arguments));
}

/// <summary>A streamed call's name (first delta only) and arguments text added.</summary>
public sealed record ChatFunctionCallDelta(
    [property: JsonPropertyName("name"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name,
    [property: JsonPropertyName("arguments"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Arguments);
