namespace DeepSeekMesh.ChatTemplates;

/// <summary>A tool call made by the assistant; <paramref name="Arguments"/> is the JSON argument text.</summary>
public sealed record ToolCall(string? Id, string Type, string FunctionName, string Arguments)
{
    /// <summary>A "function" tool call.</summary>
    public static ToolCall Function(string name, string arguments, string? id = null) => new(id, "function", name, arguments);
}

/// <summary>
/// One conversation message as chat templates see it: a dict with "role", "content" (None when null),
/// and — only when set — "tool_calls", "tool_call_id" and "name".
/// </summary>
public sealed record ChatMessage(
    string Role,
    string? Content,
    IReadOnlyList<ToolCall>? ToolCalls = null,
    string? ToolCallId = null,
    string? Name = null)
{
    public static ChatMessage System(string content) => new("system", content);

    public static ChatMessage User(string content) => new("user", content);

    public static ChatMessage Assistant(string? content, IReadOnlyList<ToolCall>? toolCalls = null) => new("assistant", content, toolCalls);

    public static ChatMessage Tool(string content, string? toolCallId = null, string? name = null) => new("tool", content, null, toolCallId, name);
}
