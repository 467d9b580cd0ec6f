namespace DeepSeekMesh.Text.Agents;

/// <summary>What a piece of the answer added: plain text, and the tool calls it completed.</summary>
public sealed record ToolCallDelta(string Content, IReadOnlyList<ParsedToolCall> Calls)
{
    public static ToolCallDelta Text(string content) => new(content, []);
}
