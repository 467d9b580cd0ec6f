using System.Text;

namespace DeepSeekMesh.Text.Agents;

/// <summary>
/// The system-prompt section that lists the tools for chat templates without a slot for them
/// (DeepSeek-V3's has none): how to call (the exact token format <see cref="DeepSeekToolCallParser"/>
/// reads), what the tool choice demands, then one <c>### name</c> block per function with its
/// description and JSON schema.
/// </summary>
public static class DeepSeekToolPrompt
{
    /// <param name="required">The function the model must call, <c>"*"</c> for any (tool_choice "required"), or null (auto).</param>
    /// <param name="parallel">False: at most one call.</param>
    public static string Render(IReadOnlyList<ToolFunction> tools, string? required, bool parallel)
    {
        var s = new StringBuilder();
        s.Append("## Tools\n\n");
        s.Append("You can call the functions listed below. To call functions, reply with exactly this format:\n");
        s.Append(DeepSeekToolCallParser.CallsBegin).Append(DeepSeekToolCallParser.CallBegin).Append("function")
            .Append(DeepSeekToolCallParser.Separator).Append("FUNCTION_NAME\n```json\n{\"argument\": \"value\"}\n```")
            .Append(DeepSeekToolCallParser.CallEnd).Append(DeepSeekToolCallParser.CallsEnd).Append('\n');
        s.Append(parallel
            ? "To make several calls at once, put each call on its own line between the begin and end markers.\n"
            : "Call at most one function per reply.\n");
        s.Append("The arguments are a JSON object that follows the function's parameter schema.");
        if (required == "*") s.Append(" You must call at least one function.");
        else if (required is not null) s.Append($" You must call the function {required}.");
        s.Append('\n');
        foreach (var tool in tools)
        {
            s.Append("\n### ").Append(tool.Name).Append('\n');
            if (!string.IsNullOrWhiteSpace(tool.Description)) s.Append("Description: ").Append(tool.Description.Trim()).Append('\n');
            s.Append("Parameters: ").Append(tool.ParametersJson ?? "{}").Append('\n');
        }
        return s.ToString();
    }
}
