using System.Text;
using DeepSeekMesh.Text.Agents;

namespace DeepSeekMesh.Gateway.Serving;

/// <summary>What one choice produced, for a non-streamed response.</summary>
public sealed class ChoiceResult(int index)
{
    public int Index { get; } = index;
    public StringBuilder Text { get; } = new();
    public StringBuilder Reasoning { get; } = new();
    public List<ParsedToolCall> ToolCalls { get; } = [];
    public List<TokenLogprobInfo> Logprobs { get; } = [];
    public string FinishReason { get; set; } = "stop";
    public int CompletionTokens { get; set; }
    public int CachedTokens { get; set; }

    public void Add(ChoiceEvent e)
    {
        Text.Append(e.Text);
        Reasoning.Append(e.Reasoning);
        ToolCalls.AddRange(e.ToolCalls);
        if (e.Logprob is not null) Logprobs.Add(e.Logprob);
        CompletionTokens = e.CompletionTokens;
        CachedTokens = e.CachedTokens;
        if (e.FinishReason is not null) FinishReason = e.FinishReason;
    }
}
