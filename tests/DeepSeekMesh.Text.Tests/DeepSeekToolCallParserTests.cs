using System.Text;
using DeepSeekMesh.Text.Agents;

namespace DeepSeekMesh.Text.Tests;

public sealed class DeepSeekToolCallParserTests
{
    const string Begin = DeepSeekToolCallParser.CallsBegin, End = DeepSeekToolCallParser.CallsEnd;
    const string CallBegin = DeepSeekToolCallParser.CallBegin, CallEnd = DeepSeekToolCallParser.CallEnd, Sep = DeepSeekToolCallParser.Separator;

    /// <summary>A call exactly as DeepSeek-V3's chat template writes one.</summary>
    static string Call(string name, string arguments) => $"{CallBegin}function{Sep}{name}\n```json\n{arguments}\n```{CallEnd}";

    static (string Content, List<ParsedToolCall> Calls) Run(string output, int size, int maxCalls = int.MaxValue)
    {
        var parser = new DeepSeekToolCallParser(maxCalls);
        var content = new StringBuilder();
        var calls = new List<ParsedToolCall>();
        void Add(ToolCallDelta d)
        {
            content.Append(d.Content);
            calls.AddRange(d.Calls);
        }
        for (int i = 0; i < output.Length; i += size) Add(parser.Push(output.Substring(i, Math.Min(size, output.Length - i))));
        Add(parser.Finish());
        return (content.ToString(), calls);
    }

    static readonly int[] Sizes = [1, 2, 3, 7, 1000];

    [Fact]
    public void ParsesParallelCallsAndKeepsTheTextBefore()
    {
        var output = $"Let me check.{Begin}{Call("get_weather", "{\"city\": \"Paris\"}")}\n{Call("get_time", "{\"zone\": \"UTC\"}")}{End}";
        foreach (int size in Sizes)
        {
            var (content, calls) = Run(output, size);
            Assert.Equal("Let me check.", content);
            Assert.Equal(2, calls.Count);
            Assert.Equal((0, "get_weather", "{\"city\": \"Paris\"}"), (calls[0].Index, calls[0].Name, calls[0].Arguments));
            Assert.Equal((1, "get_time", "{\"zone\": \"UTC\"}"), (calls[1].Index, calls[1].Name, calls[1].Arguments));
            Assert.All(calls, c => Assert.Matches("^call_[0-9a-f]{24}$", c.Id));
            Assert.NotEqual(calls[0].Id, calls[1].Id);
            Assert.Equal("function", calls[0].Type);
        }
    }

    [Fact]
    public void EmitsEachCallAsSoonAsItEnds()
    {
        var parser = new DeepSeekToolCallParser();
        Assert.Equal("", parser.Push(Begin).Content);
        var first = parser.Push(Call("a", "{}") + "\n" + CallBegin + "function");
        Assert.Equal("a", Assert.Single(first.Calls).Name);
        Assert.Empty(parser.Push($"{Sep}b\n```json\n{{\"x\":1}}\n```").Calls);
        Assert.Equal("b", Assert.Single(parser.Push(CallEnd + End + "ignored").Calls).Name);
        Assert.Equal(2, parser.CallCount);
        Assert.Equal(new ToolCallDelta("", []), parser.Finish() with { Calls = [] });
    }

    [Theory]
    [InlineData("{\"city\": \"Par")] // truncated arguments, no end token
    [InlineData("{\"city\": \"Paris\"}\n```")] // no call end token
    public void AnUnfinishedSectionIsContent(string tail)
    {
        var output = $"Hi{Begin}{CallBegin}function{Sep}get_weather\n```json\n{tail}";
        foreach (int size in Sizes)
            Assert.Equal((output, 0), Run(output, size) is var (c, calls) ? (c, calls.Count) : default);
    }

    [Theory]
    [InlineData("function", "get weather", "{}")] // a name with a space
    [InlineData("function", "get_weather", "{\"city\": Paris}")] // arguments that are not JSON
    [InlineData("function", "get_weather", "[1, 2]")] // not an object
    [InlineData("code", "get_weather", "{}")] // not a function
    public void AMalformedCallIsContent(string type, string name, string arguments)
    {
        var output = $"{Begin}{CallBegin}{type}{Sep}{name}\n```json\n{arguments}\n```{CallEnd}{End}";
        foreach (int size in Sizes)
        {
            var (content, calls) = Run(output, size);
            Assert.Empty(calls);
            Assert.Equal(output, content);
        }
    }

    [Fact]
    public void ValidCallsBeforeAMalformedOneAreKeptAndTheRestIsContent()
    {
        var bad = $"\n{CallBegin}function{Sep}oops\n```json\nnot json\n```{CallEnd}";
        var output = $"{Begin}{Call("a", "{}")}{bad}{End}";
        foreach (int size in Sizes)
        {
            var (content, calls) = Run(output, size);
            Assert.Equal("a", Assert.Single(calls).Name);
            Assert.Equal(bad + End, content);
        }
    }

    [Fact]
    public void GarbageInsideTheSectionIsContent()
    {
        var output = $"{Begin}I changed my mind.";
        foreach (int size in Sizes) Assert.Equal((output, 0), Run(output, size) is var (c, calls) ? (c, calls.Count) : default);
    }

    [Fact]
    public void TextWithoutASectionPassesThroughAndAPartialTokenIsHeldBack()
    {
        var parser = new DeepSeekToolCallParser();
        Assert.Equal("Hello ", parser.Push("Hello <").Content); // "<" may start the section token: held back
        Assert.Equal("", parser.Push("｜tool").Content);
        Assert.Equal("<｜tool▁x", parser.Push("▁x").Content); // released once it cannot be the token
        Assert.Equal("", parser.Finish().Content);
        foreach (int size in Sizes) Assert.Equal(("plain <｜tool text", 0), Run("plain <｜tool text", size) is var (c, calls) ? (c, calls.Count) : default);
    }

    [Fact]
    public void MaxCallsDropsTheCallsAfterTheLimit()
    {
        var output = $"{Begin}{Call("a", "{}")}\n{Call("b", "{}")}{End}";
        var (content, calls) = Run(output, 4, maxCalls: 1);
        Assert.Equal("", content);
        Assert.Equal("a", Assert.Single(calls).Name);
    }
}
