using System.Diagnostics;
using Xunit.Abstractions;

namespace DeepSeekMesh.ChatTemplates.Tests;

public class ChatTemplateRendererTests(ITestOutputHelper output)
{
    private const string Probe =
        "{{ messages | length }}|{{ add_generation_prompt }}|{{ tools }}|{{ documents }}|{{ bos_token is defined }}|{{ eos_token }}|"
        + "{% for m in messages %}{{ m.role }}:{{ m.content }}:{{ m.tool_calls is defined }}:{{ m.tool_call_id | default('-') }}:{{ m.name | default('-') }};{% endfor %}";

    [Fact]
    public void PassesTheVariablesHfPasses()
    {
        var renderer = new ChatTemplateRenderer(Probe);
        var messages = new List<ChatMessage>
        {
            ChatMessage.User("q"),
            ChatMessage.Assistant(null, [ToolCall.Function("f", "{}", id: "call_1")]),
            ChatMessage.Tool("r", toolCallId: "call_1", name: "f"),
        };
        Assert.Equal("3|True|None|None|False|</s>|user:q:False:-:-;assistant:None:True:-:-;tool:r:False:call_1:f;",
            renderer.RenderChat(messages, true, bosToken: null, eosToken: "</s>"));
    }

    [Fact]
    public void ToolCallsAndToolsShape()
    {
        const string t = "{% for c in messages[0].tool_calls %}{{ c.id }} {{ c.type }} {{ c.function.name }} {{ c.function.arguments }} {{ c.function.arguments is mapping }}{% endfor %}|{{ tools[0].name }}";
        var messages = new List<ChatMessage> { ChatMessage.Assistant(null, [ToolCall.Function("get", "{\"a\": 1}", "id9")]) };
        var tools = new List<object?> { new Dictionary<string, object?> { ["name"] = "get" } };
        Assert.Equal("id9 function get {\"a\": 1} False|get", new ChatTemplateRenderer(t).RenderChat(messages, false, null, null, tools));
        Assert.Equal("id9 function get {'a': 1} True|get",
            new ChatTemplateRenderer(t) { ToolCallArgumentsAsObjects = true }.RenderChat(messages, false, null, null, tools));
    }

    [Fact]
    public void ExtraVariablesAreVisible() =>
        Assert.Equal("think=False",
            new ChatTemplateRenderer("think={{ enable_thinking }}").RenderChat([], false, null, null, null,
                new Dictionary<string, object?> { ["enable_thinking"] = false }));

    [Fact]
    public void FromTokenizerConfigAcceptsStringAndNamedTemplateList()
    {
        var a = ChatTemplateRenderer.FromTokenizerConfig("""{"chat_template": "{{ bos_token }}x", "bos_token": "<s>", "eos_token": {"content": "</s>"}}""");
        Assert.Equal("<s>", a.BosToken);
        Assert.Equal("</s>", a.EosToken);
        Assert.Equal("<s>x", a.RenderChat([], false));

        var b = ChatTemplateRenderer.FromTokenizerConfig("""{"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}""");
        Assert.Equal("D", b.RenderChat([], false));
        Assert.Throws<TemplateException>(() => ChatTemplateRenderer.FromTokenizerConfig("{}"));
    }

    [Fact]
    public void ParsedTemplateIsReusableAcrossThreads()
    {
        var renderer = ChatTemplateRenderer.FromTokenizerConfig(RepoFiles.ReadText("assets", "tokenizer", "deepseek-v3", "tokenizer_config.json"));
        var results = new string[64];
        Parallel.For(0, results.Length, i => results[i] = renderer.RenderChat([ChatMessage.User("n" + i)], true));
        for (int i = 0; i < results.Length; i++) Assert.Equal($"<｜begin▁of▁sentence｜><｜User｜>n{i}<｜Assistant｜>", results[i]);
    }

    /// <summary>
    /// Render time grows linearly with the conversation: 20 messages cost at most 15× what 2 cost, both
    /// measured interleaved in one run (a ratio, so a loaded machine does not fail it; quadratic
    /// growth would be ~100×). The absolute figure (≈ 0.3 ms for 20 messages on the 2-core machine)
    /// is printed, and kept in bench/README.md.
    /// </summary>
    [Fact]
    public void RenderTimeGrowsLinearlyWithTheConversation()
    {
        var renderer = ChatTemplateRenderer.FromTokenizerConfig(RepoFiles.ReadText("assets", "tokenizer", "deepseek-v3", "tokenizer_config.json"));
        static List<ChatMessage> Conversation(int turns)
        {
            var messages = new List<ChatMessage> { ChatMessage.System("You are a helpful assistant.") };
            for (int i = 0; i < turns; i++)
            {
                messages.Add(ChatMessage.User($"Question number {i}: what is {i} + {i}?"));
                messages.Add(ChatMessage.Assistant($"The answer is {2 * i}. Anything else I can help with?"));
            }
            messages.Add(ChatMessage.User("Thanks, one last question?"));
            return messages;
        }
        var small = Conversation(0); // 2 messages
        var large = Conversation(9); // 20 messages
        Assert.Equal(20, large.Count);

        // Warm up long enough for tiered JIT to reach optimized code, then measure both, interleaved.
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 1500) { renderer.RenderChat(small, true); renderer.RenderChat(large, true); }
        var best = (Small: double.MaxValue, Large: double.MaxValue);
        for (int round = 0; round < 5; round++)
        {
            best.Small = Math.Min(best.Small, Time(() => renderer.RenderChat(small, true)));
            best.Large = Math.Min(best.Large, Time(() => renderer.RenderChat(large, true)));
        }
        output.WriteLine($"render: 2 messages {best.Small:F1} µs, 20 messages {best.Large:F1} µs ({best.Large / best.Small:F1}×)");
        Assert.True(best.Large < 15 * best.Small, $"20 messages took {best.Large:F1} µs, 2 messages {best.Small:F1} µs");
    }

    static double Time(Func<string> render)
    {
        const int n = 400;
        var sw = Stopwatch.StartNew();
        int length = 0;
        for (int i = 0; i < n; i++) length += render().Length;
        return length > 0 ? sw.Elapsed.TotalMicroseconds / n : double.NaN;
    }
}
