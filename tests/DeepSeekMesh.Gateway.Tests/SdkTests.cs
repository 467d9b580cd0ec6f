using System.ClientModel;
using System.Text;
using System.Text.Json.Nodes;
using TemplateMessage = DeepSeekMesh.ChatTemplates.ChatMessage;
using DeepSeekMesh.Model;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Text;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Models;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>The official OpenAI .NET SDK, unmodified, against the gateway on loopback.</summary>
public sealed class SdkTests(OpenServer server) : IClassFixture<OpenServer>
{
    const string Prompt = "Hello! Who are you?";
    const int MaxTokens = 10;

    OpenAIClientOptions Options => new() { Endpoint = new Uri(server.BaseAddress, "/v1") };
    ChatClient Chat => new(server.ModelId, new ApiKeyCredential("unused-open-server"), Options);

    /// <summary>The single-process reference: the offline engine over the same model and the same chat-template tokens, detokenized as the gateway does.</summary>
    static (string Text, int Tokens, string Finish) SingleProcess(string prompt, int maxTokens)
    {
        var codec = TextCodec.FromDirectory(TinyModel.Directory);
        var ids = codec.EncodeChat([TemplateMessage.User(prompt)]);
        using var model = Transformer.Load(TinyModel.Directory);
        using var engine = new OfflineEngine(model);
        var result = engine.Generate([new EngineRequest(ids, SamplingParams.Greedy with { MaxTokens = maxTokens })]).Results[0];
        var stream = codec.NewStream();
        var text = new StringBuilder();
        foreach (var t in result.Tokens)
            if (!t.IsStopToken) text.Append(stream.Push(t.TokenId));
        text.Append(stream.Finish());
        return (text.ToString(), result.Tokens.Count, result.FinishReason == FinishReason.Stop ? "stop" : "length");
    }

    [Fact]
    public async Task GreedyChatStreamedEqualsNonStreamedEqualsSingleProcess()
    {
        var options = new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = MaxTokens };
        ChatCompletion completion = await Chat.CompleteChatAsync([new UserChatMessage(Prompt)], options);
        var text = completion.Content.Count == 0 ? "" : completion.Content[0].Text;

        var streamed = new StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Chat.CompleteChatStreamingAsync([new UserChatMessage(Prompt)], new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = MaxTokens }))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        var reference = SingleProcess(Prompt, MaxTokens);
        Assert.Equal(reference.Text, text);
        Assert.Equal(text, streamed.ToString());
        Assert.Equal(reference.Finish == "stop" ? ChatFinishReason.Stop : ChatFinishReason.Length, completion.FinishReason);
        Assert.Equal(completion.FinishReason, finish);
        Assert.Equal(reference.Tokens, completion.Usage.OutputTokenCount);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        if (usage is not null) Assert.Equal(completion.Usage.OutputTokenCount, usage.OutputTokenCount);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
    }

    [Fact]
    public async Task ChatAcceptsSystemAssistantToolMessagesAndSamplingOptions()
    {
        var options = new ChatCompletionOptions
        {
            Temperature = 0.7f,
            TopP = 0.9f,
            MaxOutputTokenCount = 6,
            FrequencyPenalty = 0.5f,
            PresencePenalty = 0.25f,
            IncludeLogProbabilities = true,
            TopLogProbabilityCount = 3,
            EndUserId = "user-42",
        };
        options.StopSequences.Add("\n\n");
        options.LogitBiases[100] = -50;
#pragma warning disable OPENAI001
        options.Seed = 1234;
#pragma warning restore OPENAI001
        ChatMessage[] messages =
        [
            new SystemChatMessage("You are terse."),
            new UserChatMessage("What is 2+2?"),
            new AssistantChatMessage("4."),
            new UserChatMessage("And 3+3?"),
        ];
        ChatCompletion first = await Chat.CompleteChatAsync(messages, options);
        ChatCompletion second = await Chat.CompleteChatAsync(messages, options);
        Assert.Equal(first.Content[0].Text, second.Content[0].Text); // same seed, same text
        Assert.Equal(first.Usage.OutputTokenCount, first.ContentTokenLogProbabilities.Count);
        Assert.All(first.ContentTokenLogProbabilities, t =>
        {
            Assert.Equal(3, t.TopLogProbabilities.Count);
            Assert.True(t.LogProbability <= 0);
        });
    }

    [Fact]
    public async Task ToolMessagesAreAccepted()
    {
        ChatMessage[] messages =
        [
            new UserChatMessage("What's the weather in Paris?"),
            new AssistantChatMessage([ChatToolCall.CreateFunctionToolCall("call_1", "get_weather", BinaryData.FromString("{\"city\":\"Paris\"}"))]),
            new ToolChatMessage("call_1", "{\"temperature\": 21}"),
        ];
        ChatCompletion completion = await Chat.CompleteChatAsync(messages, new ChatCompletionOptions { Temperature = 0f, MaxOutputTokenCount = 4 });
        Assert.True(completion.Usage.OutputTokenCount is > 0 and <= 4);
    }

    [Fact]
    public async Task ModelsListAndGetAndUnknown()
    {
        var models = new OpenAIModelClient(new ApiKeyCredential("unused"), Options);
        OpenAIModelCollection list = await models.GetModelsAsync();
        var model = Assert.Single(list);
        Assert.Equal(server.ModelId, model.Id);
        OpenAIModel one = await models.GetModelAsync(server.ModelId);
        Assert.Equal(server.ModelId, one.Id);
        var error = await Assert.ThrowsAsync<ClientResultException>(() => models.GetModelAsync("gpt-4o"));
        Assert.Equal(404, error.Status);

        var raw = JsonNode.Parse(await server.Http.GetStringAsync("/v1/models"))!;
        Assert.True(raw["data"]![0]!["random_weights"]!.GetValue<bool>());
        Assert.Equal(4096, raw["data"]![0]!["max_model_len"]!.GetValue<int>());
    }

    [Fact]
    public async Task CompletionsTokenizeStringPromptsAsGenerateDoes()
    {
        var codec = TextCodec.FromDirectory(TinyModel.Directory);
        var ids = codec.EncodePrompt("The capital of France is");
        // The same prompt as a string and as token ids gives the same greedy text and the same prompt token count.
        var (status, asText, _) = await server.PostAsync("/v1/completions", """{"prompt":"The capital of France is","max_tokens":6,"temperature":0}""");
        Assert.Equal(System.Net.HttpStatusCode.OK, status);
        var (_, asIds, _) = await server.PostAsync("/v1/completions", $$"""{"prompt":[{{string.Join(",", ids)}}],"max_tokens":6,"temperature":0}""");
        Assert.Equal(asText!["choices"]![0]!["text"]!.GetValue<string>(), asIds!["choices"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(ids.Length, asText["usage"]!["prompt_tokens"]!.GetValue<int>());
        Assert.Equal("text_completion", asText["object"]!.GetValue<string>());

        // A list of prompts, n choices each, echo and logprobs.
        var (_, many, _) = await server.PostAsync("/v1/completions", """{"prompt":["Hi","there"],"n":2,"max_tokens":3,"temperature":0,"echo":true,"logprobs":2}""");
        var choices = many!["choices"]!.AsArray();
        Assert.Equal(4, choices.Count);
        Assert.Equal([0, 1, 2, 3], choices.Select(c => c!["index"]!.GetValue<int>()));
        Assert.StartsWith("Hi", choices[0]!["text"]!.GetValue<string>());
        Assert.StartsWith("there", choices[3]!["text"]!.GetValue<string>());
        Assert.Equal(choices[0]!["text"]!.GetValue<string>(), choices[1]!["text"]!.GetValue<string>()); // greedy: the same text per prompt
        var lp = choices[0]!["logprobs"]!;
        Assert.Equal(lp["tokens"]!.AsArray().Count, lp["token_logprobs"]!.AsArray().Count);
        Assert.Equal(lp["tokens"]!.AsArray().Count, lp["text_offset"]!.AsArray().Count);

        // A list of token-id lists.
        var (okIds, _, _) = await server.PostAsync("/v1/completions", """{"prompt":[[1,2,3],[4,5]],"max_tokens":2}""");
        Assert.Equal(System.Net.HttpStatusCode.OK, okIds);
    }
}
