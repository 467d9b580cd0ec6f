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

    [Fact]
    public void RendersATwentyMessageConversationWellUnderAMillisecond()
    {
        var renderer = ChatTemplateRenderer.FromTokenizerConfig(RepoFiles.ReadText("assets", "tokenizer", "deepseek-v3", "tokenizer_config.json"));
        var messages = new List<ChatMessage> { ChatMessage.System("You are a helpful assistant.") };
        for (int i = 0; i < 9; i++)
        {
            messages.Add(ChatMessage.User($"Question number {i}: what is {i} + {i}?"));
            messages.Add(ChatMessage.Assistant($"The answer is {2 * i}. Anything else I can help with?"));
        }
        messages.Add(ChatMessage.User("Thanks, one last question?"));
        Assert.Equal(20, messages.Count);

        // Warm up long enough for tiered JIT to reach optimized code, then measure steady state.
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 1500) renderer.RenderChat(messages, true);
        const int n = 2000;
        var sw = Stopwatch.StartNew();
        int length = 0;
        for (int i = 0; i < n; i++) length += renderer.RenderChat(messages, true).Length;
        sw.Stop();
        double microseconds = sw.Elapsed.TotalMicroseconds / n;
        output.WriteLine($"20-message render: {microseconds:F1} µs on average ({length / n} chars)");
        Assert.True(microseconds < 1000, $"render took {microseconds:F1} µs");
    }
}
