using System.ClientModel;
using System.Text;
using OpenAI;
using OpenAI.Chat;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>A model whose tool call breaks off: the gateway answers its text as content, streamed and not.</summary>
public sealed class MalformedToolOutputTests(MalformedToolServer server) : IClassFixture<MalformedToolServer>
{
    ChatClient Chat => new(server.ModelId, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "/v1") });

    static ChatCompletionOptions Options()
    {
        var options = new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 100 };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "The current weather in a city."));
        return options;
    }

    [Fact]
    public async Task MalformedToolOutputIsContentNonStreamed()
    {
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("Weather?")], Options());
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Empty(completion.ToolCalls);
        Assert.Equal(AgentModels.Malformed, Assert.Single(completion.Content).Text);
    }

    [Fact]
    public async Task MalformedToolOutputIsContentStreamed()
    {
        var content = new StringBuilder();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("Weather?")], Options()))
        {
            foreach (var part in update.ContentUpdate) content.Append(part.Text);
            Assert.Empty(update.ToolCallUpdates);
            finish ??= update.FinishReason;
        }
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.Equal(AgentModels.Malformed, content.ToString());
    }

    [Fact]
    public async Task AModelWithoutThinkTokensNeverSplitsReasoning()
    {
        var (_, body, _) = await server.PostAsync("/v1/chat/completions",
            """{"messages":[{"role":"user","content":"Hi"}],"temperature":0,"separate_reasoning":true}""");
        var message = body!["choices"]![0]!["message"]!;
        Assert.Null(message["reasoning_content"]);
        Assert.Equal(AgentModels.Malformed, message["content"]!.GetValue<string>());
    }
}
