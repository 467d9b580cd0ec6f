using DeepSeekMesh.Text.Agents;

namespace DeepSeekMesh.Gateway;

/// <summary>
/// What one choice produced since its last event: a text delta (possibly empty), logprobs, and at the end the finish reason;
/// <paramref name="CachedTokens"/>: the prompt tokens its frontend read from the prefix cache.
/// </summary>
public sealed record ChoiceEvent(int Index, string Text, TokenLogprobInfo? Logprob, string? FinishReason, int CompletionTokens, int CachedTokens = 0)
{
    /// <summary>Reasoning text (inside <c>&lt;think&gt;…&lt;/think&gt;</c>) split off <see cref="Text"/> by a <see cref="Serving.ChoiceParser"/>.</summary>
    public string Reasoning { get; init; } = "";

    /// <summary>Tool calls that this delta completed (found by a <see cref="Serving.ChoiceParser"/>).</summary>
    public IReadOnlyList<ParsedToolCall> ToolCalls { get; init; } = [];
}
