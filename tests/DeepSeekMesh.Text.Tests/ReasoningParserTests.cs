using System.Text;
using DeepSeekMesh.Text.Agents;

namespace DeepSeekMesh.Text.Tests;

public sealed class ReasoningParserTests
{
    /// <summary>Feeds <paramref name="output"/> in pieces of <paramref name="size"/> characters; returns the joined reasoning and content.</summary>
    static (string Reasoning, string Content) Run(string output, int size, bool promptOpenedThink = true)
    {
        var parser = new ReasoningParser(promptOpenedThink);
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        for (int i = 0; i < output.Length; i += size)
        {
            var d = parser.Push(output.Substring(i, Math.Min(size, output.Length - i)));
            reasoning.Append(d.Reasoning);
            content.Append(d.Content);
        }
        var f = parser.Finish();
        return (reasoning.Append(f.Reasoning).ToString(), content.Append(f.Content).ToString());
    }

    [Theory]
    [InlineData("<think>Let me see.</think>The answer is 4.", "Let me see.", "The answer is 4.")]
    [InlineData("Let me see.</think>\n\nFour.", "Let me see.", "\n\nFour.")] // R1: the prompt opened <think>
    [InlineData("<think>Still thinking", "Still thinking", "")] // no end tag: all reasoning (vLLM)
    [InlineData("<think></think>Done.", "", "Done.")]
    [InlineData("a < b </thin k> <think </think>x", "a < b </thin k> <think ", "x")]
    [InlineData("<think>x</think>y</think>z", "x", "y</think>z")] // only the first end tag splits
    public void SplitsReasoningFromContentAtAnyDeltaSize(string output, string reasoning, string content)
    {
        foreach (int size in new[] { 1, 2, 3, 5, 7, output.Length })
            Assert.Equal((reasoning, content), Run(output, size));
    }

    [Theory]
    [InlineData("<think>Hmm.</think>Yes.", "Hmm.", "Yes.")]
    [InlineData("\n <think>Hmm.</think>Yes.", "Hmm.", "Yes.")]
    [InlineData("Sunny.", "", "Sunny.")] // an answer after tool results: not reasoning
    [InlineData("<thin", "", "<thin")]
    [InlineData("Hmm.</think>Yes.", "", "Hmm.</think>Yes.")]
    [InlineData("", "", "")]
    public void WhenThePromptDidNotOpenThinkReasoningBeginsOnlyWithTheOutputsOwnTag(string output, string reasoning, string content)
    {
        foreach (int size in new[] { 1, 2, 3, 5, Math.Max(1, output.Length) })
            Assert.Equal((reasoning, content), Run(output, size, promptOpenedThink: false));
    }

    [Fact]
    public void HoldsBackAPartialTagUntilItIsDecided()
    {
        var parser = new ReasoningParser();
        Assert.Equal(new ReasoningDelta("ab", ""), parser.Push("ab</th"));
        Assert.Equal(new ReasoningDelta("", "c"), parser.Push("ink>c"));
        Assert.True(parser.ReasoningEnded);
        var other = new ReasoningParser();
        Assert.Equal(new ReasoningDelta("ab", ""), other.Push("ab</th"));
        Assert.Equal(new ReasoningDelta("</thx", ""), other.Push("x"));
        Assert.Equal(new ReasoningDelta("", ""), other.Finish());
    }
}
