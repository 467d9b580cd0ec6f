using System.Text.Json;
using DeepSeekMesh.ChatTemplates;

namespace DeepSeekMesh.Text.Tests;

public sealed class TextCodecTests
{
    static readonly Lazy<TextCodec> Codec = new(() => TextCodec.FromDirectory(RepoPaths.TokenizerDirectory));

    [Fact]
    public void RawPromptGetsBosAsTheConfigSays()
    {
        var ids = Codec.Value.EncodePrompt("Hello");
        Assert.Equal(0, ids[0]);
        Assert.Equal(Codec.Value.Tokenizer.Encode("Hello", addBos: false), ids[1..]);
    }

    [Fact]
    public void ChatIsRenderedWithOneBosFromTheTemplate()
    {
        var ids = Codec.Value.EncodeChat([ChatMessage.User("Hi")]);
        Assert.Equal(1, ids.Count(id => id == 0));
        Assert.Equal("<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>", Codec.Value.Tokenizer.Decode(ids));
    }

    [Fact]
    public void ChatVectorsEncodeExactly()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(RepoPaths.Conformance, "tokenizer", "vectors.json")));
        int checkedCount = 0;
        foreach (var chat in doc.RootElement.GetProperty("chat").EnumerateArray())
        {
            var messages = ChatMessagesJson.Parse(chat.GetProperty("messages"));
            bool generationPrompt = chat.TryGetProperty("add_generation_prompt", out var g) && g.GetBoolean();
            Assert.Equal(chat.GetProperty("rendered").GetString(), Codec.Value.RenderChat(messages, generationPrompt));
            Assert.Equal(chat.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()), Codec.Value.EncodeChat(messages, generationPrompt));
            checkedCount++;
        }
        Assert.True(checkedCount > 0);
    }

    [Fact]
    public void StopStringSpanningTokensEndsTheTextBeforeIt()
    {
        var ids = Codec.Value.Tokenizer.Encode("The answer is 42. END of story", addBos: false);
        var stream = Codec.Value.NewStream(["42. END"]);
        var text = string.Concat(ids.Select(stream.Push)) + stream.Finish();
        Assert.Equal("The answer is ", text);
        Assert.True(stream.Stopped);
        Assert.Equal("42. END", stream.StopSequence);
    }

    [Fact]
    public void WithoutStopsTheStreamEqualsTheDecodedText()
    {
        var original = "naïve café — 日本語 🎉 done";
        var ids = Codec.Value.Tokenizer.Encode(original, addBos: false);
        var stream = Codec.Value.NewStream();
        var deltas = ids.Select(stream.Push).ToList();
        Assert.DoesNotContain(deltas, d => d.Contains('\uFFFD'));
        Assert.Equal(original, string.Concat(deltas) + stream.Finish());
    }

    [Theory]
    [InlineData("""{"role":"user"}""", "content is required")]
    [InlineData("""[]""", "must not be empty")]
    [InlineData("""[{"role":"wizard","content":"x"}]""", "role 'wizard'")]
    [InlineData("""[{"role":"user","content":[{"type":"image_url"}]}]""", "only text content parts")]
    [InlineData("""[{"role":"assistant","content":null,"tool_calls":[{"type":"function"}]}]""", "function must be an object")]
    public void BadMessagesAreRefusedWithTheirPath(string json, string expected)
    {
        using var doc = JsonDocument.Parse(json.StartsWith('[') ? json : $"[{json}]");
        Assert.Contains(expected, Assert.Throws<FormatException>(() => ChatMessagesJson.Parse(doc.RootElement)).Message);
    }

    [Fact]
    public void ContentPartsAndToolCallsParse()
    {
        using var doc = JsonDocument.Parse("""
            [{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
             {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"x\":1}"}}]},
             {"role":"tool","content":"42","tool_call_id":"c1"}]
            """);
        var m = ChatMessagesJson.Parse(doc.RootElement);
        Assert.Equal("ab", m[0].Content);
        Assert.Equal("f", m[1].ToolCalls![0].FunctionName);
        Assert.Equal("c1", m[2].ToolCallId);
    }

    [Fact]
    public void AToolRoundTripRendersInDeepSeekFormatAndEmptyAssistantContentKeepsTheCalls()
    {
        using var doc = JsonDocument.Parse("""
            [{"role":"user","content":"Weather?"},
             {"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},
             {"role":"tool","content":"{\"t\":21}","tool_call_id":"c1"}]
            """);
        var text = Codec.Value.RenderChat(ChatMessagesJson.Parse(doc.RootElement));
        Assert.Contains("<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\":\"Paris\"}\n```<｜tool▁call▁end｜>", text);
        Assert.EndsWith("<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>{\"t\":21}<｜tool▁output▁end｜><｜tool▁outputs▁end｜>", text);
    }

    [Fact]
    public void DeepSeekV3HasNoThinkTokensAndNoToolsSlot()
    {
        Assert.False(Codec.Value.HasThinkTokens);
        Assert.False(Codec.Value.TemplateTakesTools);
    }

    [Fact]
    public void TheToolPromptTokenizesItsCallFormatAsTheModelsOwnTokens()
    {
        var prompt = Agents.DeepSeekToolPrompt.Render(
            [new("get_weather", "Current weather.", """{"type":"object","properties":{"city":{"type":"string"}}}"""), new("get_time", null, null)],
            required: "get_time", parallel: false);
        Assert.Contains("### get_weather\nDescription: Current weather.\nParameters: {\"type\":\"object\"", prompt);
        Assert.Contains("### get_time\nParameters: {}", prompt);
        Assert.Contains("You must call the function get_time.", prompt);
        Assert.Contains("Call at most one function per reply.", prompt);
        var tokenizer = Codec.Value.Tokenizer;
        var ids = tokenizer.Encode(prompt, addBos: false);
        foreach (var special in new[] { "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>", "<｜tool▁sep｜>", "<｜tool▁call▁end｜>", "<｜tool▁calls▁end｜>" })
            Assert.Contains(tokenizer.TokenToId(special)!.Value, ids);
    }
}
