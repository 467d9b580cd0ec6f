using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekMesh.ChatTemplates.Tests;

/// <summary>Every chat vector of tests/conformance/tokenizer/vectors.json, rendered with the real DeepSeek-V3 template.</summary>
public class DeepSeekV3ConformanceTests
{
    private static JsonObject Config() =>
        JsonNode.Parse(RepoFiles.ReadText("assets", "tokenizer", "deepseek-v3", "tokenizer_config.json"))!.AsObject();

    private static List<JsonObject> ChatVectors()
    {
        var root = JsonNode.Parse(RepoFiles.ReadText("tests", "conformance", "tokenizer", "vectors.json"))!.AsObject();
        return root["chat"]!.AsArray().Select(n => n!.AsObject()).ToList();
    }

    private static ChatMessage ToMessage(JsonObject m)
    {
        List<ToolCall>? calls = null;
        if (m["tool_calls"] is JsonArray arr)
        {
            calls = arr.Select(c => new ToolCall(
                (string?)c!["id"],
                (string)c["type"]!,
                (string)c["function"]!["name"]!,
                (string)c["function"]!["arguments"]!)).ToList();
        }
        return new ChatMessage((string)m["role"]!, (string?)m["content"], calls, (string?)m["tool_call_id"], (string?)m["name"]);
    }

    [Fact]
    public void RendersEveryChatVectorByteForByte_ViaChatMessages()
    {
        var renderer = ChatTemplateRenderer.FromTokenizerConfig(RepoFiles.ReadText("assets", "tokenizer", "deepseek-v3", "tokenizer_config.json"));
        Assert.Equal("<｜begin▁of▁sentence｜>", renderer.BosToken);
        Assert.Equal("<｜end▁of▁sentence｜>", renderer.EosToken);

        var vectors = ChatVectors();
        Assert.NotEmpty(vectors);
        int checkedCount = 0;
        foreach (var v in vectors)
        {
            var messages = v["messages"]!.AsArray().Select(m => ToMessage(m!.AsObject())).ToList();
            bool agp = (bool)v["add_generation_prompt"]!;
            string expected = (string)v["rendered"]!;
            string actual = renderer.RenderChat(messages, agp);
            Assert.Equal(expected, actual);
            checkedCount++;
        }
        Assert.Equal(vectors.Count, checkedCount);
    }

    [Fact]
    public void RendersEveryChatVectorByteForByte_ViaRawJsonVariables()
    {
        var config = Config();
        var template = ChatTemplate.Parse((string)config["chat_template"]!);
        string bos = (string)config["bos_token"]!["content"]!;
        string eos = (string)config["eos_token"]!["content"]!;

        var vectors = ChatVectors();
        Assert.NotEmpty(vectors);
        foreach (var v in vectors)
        {
            var vars = new Dictionary<string, object?>
            {
                ["messages"] = v["messages"],
                ["add_generation_prompt"] = (bool)v["add_generation_prompt"]!,
                ["bos_token"] = bos,
                ["eos_token"] = eos,
            };
            Assert.Equal((string)v["rendered"]!, template.Render(vars));

            // The same data as a JsonElement works too.
            using var doc = JsonDocument.Parse(v["messages"]!.ToJsonString());
            vars["messages"] = doc.RootElement;
            Assert.Equal((string)v["rendered"]!, template.Render(vars));
        }
    }

    [Fact]
    public void MultipleToolCallsAndOutputs_FollowTheTemplateLogic()
    {
        var renderer = ChatTemplateRenderer.FromTokenizerConfig(RepoFiles.ReadText("assets", "tokenizer", "deepseek-v3", "tokenizer_config.json"));
        var messages = new List<ChatMessage>
        {
            ChatMessage.User("Weather in Paris and Rome?"),
            ChatMessage.Assistant(null, [ToolCall.Function("get_weather", "{\"city\": \"Paris\"}"), ToolCall.Function("get_weather", "{\"city\": \"Rome\"}")]),
            ChatMessage.Tool("{\"temp\": 21}"),
            ChatMessage.Tool("{\"temp\": 25}"),
        };
        string actual = renderer.RenderChat(messages, addGenerationPrompt: true);
        string expected =
            "<｜begin▁of▁sentence｜><｜User｜>Weather in Paris and Rome?"
            + "<｜Assistant｜><｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜>"
            + "\n<｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Rome\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜><｜end▁of▁sentence｜>"
            + "<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>{\"temp\": 21}<｜tool▁output▁end｜>"
            + "\n<｜tool▁output▁begin｜>{\"temp\": 25}<｜tool▁output▁end｜>"
            + "<｜tool▁outputs▁end｜>"; // is_tool is still set, so no generation prompt
        Assert.Equal(expected, actual);
    }
}
