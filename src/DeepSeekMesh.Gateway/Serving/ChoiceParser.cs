using DeepSeekMesh.Text.Agents;

namespace DeepSeekMesh.Gateway.Serving;

/// <summary>
/// One choice's text deltas through the parsers its request asked for — reasoning first, then tool
/// calls in what is left — so that every writer (JSON, SSE, WebSocket) gets reasoning, content and
/// complete tool calls. A choice that made a tool call finishes with <c>tool_calls</c> (as vLLM does).
/// </summary>
public sealed class ChoiceParser(ChatParsing parsing)
{
    readonly ReasoningParser? _reasoning = parsing.Reasoning ? new(parsing.PromptOpenedThink) : null;
    readonly DeepSeekToolCallParser? _tools = parsing.ToolCalls ? new(parsing.ParallelToolCalls ? int.MaxValue : 1) : null;

    public ChoiceEvent Parse(ChoiceEvent e)
    {
        bool last = e.FinishReason is not null;
        var split = _reasoning?.Push(e.Text) ?? new ReasoningDelta("", e.Text);
        var (reasoning, content) = (split.Reasoning, split.Content);
        if (last && _reasoning?.Finish() is { } rest)
        {
            reasoning += rest.Reasoning;
            content += rest.Content;
        }
        if (_tools is null) return e with { Text = content, Reasoning = reasoning };
        var found = _tools.Push(content);
        content = found.Content;
        IReadOnlyList<ParsedToolCall> calls = found.Calls;
        if (last)
        {
            var end = _tools.Finish();
            content += end.Content;
            calls = [.. calls, .. end.Calls];
        }
        return e with
        {
            Text = content,
            Reasoning = reasoning,
            ToolCalls = calls,
            FinishReason = last && _tools.CallCount > 0 ? "tool_calls" : e.FinishReason,
        };
    }
}
