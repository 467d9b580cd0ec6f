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
}
