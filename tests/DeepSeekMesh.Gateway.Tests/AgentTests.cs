using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekMesh.Model;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Text;
using OpenAI;
using OpenAI.Chat;
using TemplateMessage = DeepSeekMesh.ChatTemplates.ChatMessage;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>Tool calls and reasoning end to end: a scripted model, the gateway, the official OpenAI .NET SDK.</summary>
public sealed class AgentTests(AgentServer server) : IClassFixture<AgentServer>
{
    ChatClient Chat => new(server.ModelId, new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "/v1") });

    static ChatCompletionOptions Options(Action<ChatCompletionOptions>? configure = null)
    {
        var options = new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 200, PresencePenalty = ScriptedCheckpoint.PresencePenalty };
        options.Tools.Add(ChatTool.CreateFunctionTool("get_weather", "The current weather in a city.",
            BinaryData.FromString("""{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""")));
        options.Tools.Add(ChatTool.CreateFunctionTool("get_time", "The time in a zone.",
            BinaryData.FromString("""{"type":"object","properties":{"zone":{"type":"string"}}}""")));
        configure?.Invoke(options);
        return options;
    }

    const string Tools = """[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}},{"type":"function","function":{"name":"get_time"}}]""";

    static string Body(string extra) =>
        $$"""{"messages":[{"role":"user","content":"Weather and time in Paris?"}],"temperature":0,"presence_penalty":1,"max_tokens":200{{extra}}}""";

    [Fact]
    public void TheScriptedModelWalksItsScriptInOneProcess()
    {
        var codec = TextCodec.FromDirectory(AgentModels.Agent);
        Assert.True(codec.HasThinkTokens);
        var ids = codec.EncodeChat([TemplateMessage.User("Hi")]);
        using var model = Transformer.Load(AgentModels.Agent);
        using var engine = new OfflineEngine(model);
        var result = engine.Generate([new EngineRequest(ids, SamplingParams.Greedy with { MaxTokens = 200, PresencePenalty = ScriptedCheckpoint.PresencePenalty })]).Results[0];
        var stream = codec.NewStream();
        var text = new StringBuilder();
        foreach (var t in result.Tokens)
            if (!t.IsStopToken) text.Append(stream.Push(t.TokenId));
        Assert.Equal(AgentModels.CallsText, text.Append(stream.Finish()).ToString());
        Assert.Equal(FinishReason.Stop, result.FinishReason);
    }

    [Fact]
    public async Task ParallelToolCallsAndReasoningNonStreamed()
    {
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("Weather and time in Paris?")], Options());
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
        Assert.Equal(AgentModels.Content, Assert.Single(completion.Content).Text);
        Assert.Equal(["get_weather", "get_time"], completion.ToolCalls.Select(c => c.FunctionName));
        Assert.Equal(AgentModels.WeatherArguments, completion.ToolCalls[0].FunctionArguments.ToString());
        Assert.Equal("Paris", JsonDocument.Parse(completion.ToolCalls[0].FunctionArguments).RootElement.GetProperty("city").GetString());
        Assert.Equal(AgentModels.TimeArguments, completion.ToolCalls[1].FunctionArguments.ToString());
        Assert.All(completion.ToolCalls, c => Assert.StartsWith("call_", c.Id));
        Assert.NotEqual(completion.ToolCalls[0].Id, completion.ToolCalls[1].Id);

        // reasoning_content is DeepSeek's field (the SDK does not model it): read it raw.
        var (status, body, _) = await server.PostAsync("/v1/chat/completions", Body($",\"tools\":{Tools}"));
        Assert.Equal(HttpStatusCode.OK, status);
        var message = body!["choices"]![0]!["message"]!;
        Assert.Equal(AgentModels.Reasoning, message["reasoning_content"]!.GetValue<string>());
        Assert.Equal(AgentModels.Content, message["content"]!.GetValue<string>());
        Assert.Equal("function", message["tool_calls"]![1]!["type"]!.GetValue<string>());
        Assert.Equal("tool_calls", body["choices"]![0]!["finish_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task ParallelToolCallsAndReasoningStreamedAsOpenAIStreamsThem()
    {
        var content = new StringBuilder();
        var names = new Dictionary<int, string>();
        var ids = new Dictionary<int, string>();
        var arguments = new Dictionary<int, StringBuilder>();
        ChatFinishReason? finish = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage("Weather and time in Paris?")], Options()))
        {
            foreach (var part in update.ContentUpdate) content.Append(part.Text);
            foreach (var call in update.ToolCallUpdates)
            {
                if (call.ToolCallId is not null) Assert.True(ids.TryAdd(call.Index, call.ToolCallId)); // the id comes once, first
                if (call.FunctionName is not null) names[call.Index] = call.FunctionName;
                Assert.True(ids.ContainsKey(call.Index));
                (arguments.TryGetValue(call.Index, out var a) ? a : arguments[call.Index] = new()).Append(call.FunctionArgumentsUpdate?.ToString());
            }
            finish ??= update.FinishReason;
        }
        Assert.Equal(AgentModels.Content, content.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
        Assert.Equal("get_weather", names[0]);
        Assert.Equal("get_time", names[1]);
        Assert.Equal(AgentModels.WeatherArguments, arguments[0].ToString());
        Assert.Equal(AgentModels.TimeArguments, arguments[1].ToString());

        // Raw SSE: reasoning deltas, and each call's first delta carries id/type/name, the next only arguments.
        var response = await server.Http.PostAsync("/v1/chat/completions", GatewayServer.JsonBody(Body($",\"tools\":{Tools},\"stream\":true")));
        var deltas = (await response.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(f => f["data: ".Length..]).Where(d => d != "[DONE]").Select(d => JsonNode.Parse(d)!["choices"]![0]!["delta"]!).ToList();
        Assert.Equal(AgentModels.Reasoning, string.Concat(deltas.Select(d => d["reasoning_content"]?.GetValue<string>())));
        var calls = deltas.Where(d => d["tool_calls"] is not null).Select(d => d["tool_calls"]![0]!).ToList();
        Assert.Equal(4, calls.Count);
        Assert.Equal(("get_weather", "", "function"), (calls[0]["function"]!["name"]!.GetValue<string>(), calls[0]["function"]!["arguments"]!.GetValue<string>(), calls[0]["type"]!.GetValue<string>()));
        Assert.Null(calls[1]["id"]);
        Assert.Null(calls[1]["function"]!["name"]);
        Assert.Equal(AgentModels.WeatherArguments, calls[1]["function"]!["arguments"]!.GetValue<string>());
        Assert.Equal([0, 0, 1, 1], calls.Select(c => c["index"]!.GetValue<int>()));
    }

    [Fact]
    public async Task ToolResultsRoundTripThroughTheTemplate()
    {
        List<ChatMessage> messages = [new UserChatMessage("Weather and time in Paris?")];
        ChatCompletion calls = await Chat.CompleteChatAsync(messages, Options());
        messages.Add(new AssistantChatMessage(calls));
        messages.Add(new ToolChatMessage(calls.ToolCalls[0].Id, """{"sky":"sunny","celsius":21}"""));
        messages.Add(new ToolChatMessage(calls.ToolCalls[1].Id, """{"time":"14:00"}"""));
        ChatCompletion answer = await Chat.CompleteChatAsync(messages, Options());
        Assert.Equal(ChatFinishReason.Stop, answer.FinishReason);
        Assert.Equal(AgentModels.Answer, Assert.Single(answer.Content).Text);
        Assert.Empty(answer.ToolCalls);

        // The prompt grew by both calls and both results.
        Assert.True(answer.Usage.InputTokenCount > calls.Usage.InputTokenCount + 40);
    }

    [Fact]
    public async Task ToolChoiceNoneLeavesToolsOutOfThePromptAndTheTextAsGenerated()
    {
        var (_, withTools, _) = await server.PostAsync("/v1/chat/completions", Body($",\"tools\":{Tools}"));
        var (status, none, _) = await server.PostAsync("/v1/chat/completions", Body($",\"tools\":{Tools},\"tool_choice\":\"none\""));
        Assert.Equal(HttpStatusCode.OK, status);
        var message = none!["choices"]![0]!["message"]!;
        Assert.Null(message["tool_calls"]);
        Assert.Equal("stop", none["choices"]![0]!["finish_reason"]!.GetValue<string>());
        Assert.Equal(AgentModels.Reasoning, message["reasoning_content"]!.GetValue<string>());
        Assert.Equal(AgentModels.CallsText[(AgentModels.CallsText.IndexOf("</think>", StringComparison.Ordinal) + "</think>".Length)..], message["content"]!.GetValue<string>());
        Assert.True(none["usage"]!["prompt_tokens"]!.GetValue<int>() + 50 < withTools!["usage"]!["prompt_tokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task ParallelToolCallsFalseKeepsTheFirstCall()
    {
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage("Weather and time in Paris?")], Options(o => o.AllowParallelToolCalls = false));
        Assert.Equal("get_weather", Assert.Single(completion.ToolCalls).FunctionName);
        Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
    }

    [Fact]
    public async Task RequiredAndNamedToolChoicesAreAccepted()
    {
        ChatCompletion required = await Chat.CompleteChatAsync([new UserChatMessage("Hi")], Options(o => o.ToolChoice = ChatToolChoice.CreateRequiredChoice()));
        Assert.Equal(2, required.ToolCalls.Count);
        ChatCompletion named = await Chat.CompleteChatAsync([new UserChatMessage("Hi")], Options(o => o.ToolChoice = ChatToolChoice.CreateFunctionChoice("get_time")));
        Assert.Equal(ChatFinishReason.ToolCalls, named.FinishReason);
    }

    [Fact]
    public async Task SeparateReasoningFalseKeepsTheThinkTextInContent()
    {
        var (_, body, _) = await server.PostAsync("/v1/chat/completions", Body(",\"separate_reasoning\":false"));
        var message = body!["choices"]![0]!["message"]!;
        Assert.Null(message["reasoning_content"]);
        Assert.Equal(AgentModels.CallsText, message["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task WebSocketChunksCarryReasoningAndWholeToolCalls()
    {
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{server.BaseAddress.Authority}/ws"), CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes(Body($",\"tools\":{Tools}")), System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
        var reasoning = new StringBuilder();
        var calls = new List<JsonNode>();
        string? finish = null;
        var buffer = new byte[1 << 16];
        while (finish is null)
        {
            var message = new StringBuilder();
            System.Net.WebSockets.WebSocketReceiveResult r;
            do
            {
                r = await socket.ReceiveAsync(buffer, CancellationToken.None);
                message.Append(Encoding.UTF8.GetString(buffer, 0, r.Count));
            } while (!r.EndOfMessage);
            var json = JsonNode.Parse(message.ToString())!;
            if (json["object"]!.GetValue<string>() == "chat.completion.done") finish = json["choices"]![0]!["finish_reason"]!.GetValue<string>();
            else if (json["choices"]![0]!["delta"] is { } d)
            {
                reasoning.Append(d["reasoning_content"]?.GetValue<string>());
                if (d["tool_calls"] is JsonArray a) calls.AddRange(a.Select(c => c!));
            }
        }
        Assert.Equal("tool_calls", finish);
        Assert.Equal(AgentModels.Reasoning, reasoning.ToString());
        Assert.Equal(["get_weather", "get_time"], calls.Select(c => c["function"]!["name"]!.GetValue<string>()));
        Assert.Equal(AgentModels.TimeArguments, calls[1]["function"]!["arguments"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("\"tools\":{}", "tools")]
    [InlineData("\"tools\":[]", "tools")]
    [InlineData("\"tools\":[{\"type\":\"function\"}]", "tools[0].function")]
    [InlineData("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"has space\"}}]", "tools[0].function.name")]
    [InlineData("\"tools\":[{\"type\":\"retrieval\",\"function\":{\"name\":\"f\"}}]", "tools[0].type")]
    [InlineData("\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":\"x\"}}]", "tools[0].function.parameters")]
    [InlineData("\"tools\":[{\"function\":{\"name\":\"f\"}},{\"function\":{\"name\":\"f\"}}]", "tools")]
    [InlineData("\"tool_choice\":\"auto\"", "tool_choice")]
    [InlineData("\"tools\":[{\"function\":{\"name\":\"f\"}}],\"tool_choice\":\"always\"", "tool_choice")]
    [InlineData("\"tools\":[{\"function\":{\"name\":\"f\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"g\"}}", "tool_choice")]
    [InlineData("\"tools\":[{\"function\":{\"name\":\"f\"}}],\"parallel_tool_calls\":\"yes\"", "parallel_tool_calls")]
    public async Task BadToolParametersAre400sNamingTheParameter(string fields, string param)
    {
        var (status, body, _) = await server.PostAsync("/v1/chat/completions", $$"""{"messages":[{"role":"user","content":"Hi"}],{{fields}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(param, body!["error"]!["param"]!.GetValue<string>());
        Assert.Equal("invalid_request_error", body["error"]!["type"]!.GetValue<string>());
    }
}
