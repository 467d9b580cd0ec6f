using System.Text.Json.Nodes;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>A repeated prompt is served from the frontend's prefix cache, and the usage says how much of it: OpenAI's <c>usage.prompt_tokens_details.cached_tokens</c>.</summary>
public sealed class PrefixCacheUsageTests(OpenServer server) : IClassFixture<OpenServer>
{
    static int Cached(JsonNode usage) => usage["prompt_tokens_details"]!["cached_tokens"]!.GetValue<int>();

    [Fact]
    public async Task RepeatedCompletionPromptReportsItsCachedTokens()
    {
        var prompt = $"{Guid.NewGuid():N} " + string.Join(' ', Enumerable.Range(0, 40).Select(i => $"word{i}"));
        var body = $$"""{"prompt":"{{prompt}}","max_tokens":3,"temperature":0}""";
        var (_, first, _) = await server.PostAsync("/v1/completions", body);
        int promptTokens = first!["usage"]!["prompt_tokens"]!.GetValue<int>();
        Assert.True(promptTokens > 32, $"{promptTokens} prompt tokens");
        Assert.Equal(0, Cached(first["usage"]!));

        // The same prompt, streamed: every full block but the one holding the last prompt token is reused.
        var streamed = await server.Http.PostAsync("/v1/completions",
            GatewayServer.JsonBody(body.Replace("}", ""","stream":true,"stream_options":{"include_usage":true}}""")));
        var frames = (await streamed.Content.ReadAsStringAsync()).Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(f => f != "data: [DONE]").Select(f => JsonNode.Parse(f["data: ".Length..])!).ToList();
        Assert.Equal((promptTokens - 1) / 16 * 16, Cached(frames[^1]["usage"]!));
        var text = string.Concat(frames.SkipLast(1).Select(c => c["choices"]![0]!["text"]!.GetValue<string>()));
        Assert.Equal(first["choices"]![0]!["text"]!.GetValue<string>(), text); // greedy: the same answer from the cache
    }

    [Fact]
    public async Task RepeatedChatReportsItsCachedTokens()
    {
        var body = $$"""{"messages":[{"role":"user","content":"{{Guid.NewGuid():N}} tell me about prefix caching in three long sentences please"}],"max_tokens":2,"temperature":0}""";
        var (_, first, _) = await server.PostAsync("/v1/chat/completions", body);
        var (_, second, _) = await server.PostAsync("/v1/chat/completions", body);
        int promptTokens = second!["usage"]!["prompt_tokens"]!.GetValue<int>();
        Assert.Equal(0, Cached(first!["usage"]!));
        Assert.Equal((promptTokens - 1) / 16 * 16, Cached(second["usage"]!));
        Assert.True(Cached(second["usage"]!) > 0, $"{promptTokens} prompt tokens");
    }
}
