using System.ClientModel;
using System.Net;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using Microsoft.Extensions.DependencyInjection;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>API keys, per-key rate limits (requests and tokens per minute) and 429 when the cluster is saturated.</summary>
public sealed class SecurityTests(SecuredServer server) : IClassFixture<SecuredServer>
{
    const string Small = """{"messages":[{"role":"user","content":"Hi"}],"max_tokens":2}""";

    [Fact]
    public async Task KeysAreRequiredOnTheApiButNotOnHealth()
    {
        using var anonymous = server.Client(null);
        var (status, json, _) = await server.PostAsync("/v1/chat/completions", Small, anonymous);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("missing_api_key", json!["error"]!["code"]!.GetValue<string>());
        using var wrong = server.Client("sk-wrong");
        (status, json, _) = await server.PostAsync("/v1/chat/completions", Small, wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("invalid_api_key", json!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health")).StatusCode);

        var options = new OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "/v1") };
        var error = await Assert.ThrowsAsync<ClientResultException>(() => new ChatClient(server.ModelId, new ApiKeyCredential("sk-wrong"), options)
            .CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 }));
        Assert.Equal(401, error.Status);
        ChatCompletion ok = await new ChatClient(server.ModelId, new ApiKeyCredential(SecuredServer.Key1), options)
            .CompleteChatAsync([new UserChatMessage("Hi")], new ChatCompletionOptions { MaxOutputTokenCount = 2 });
        Assert.Equal(2, ok.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task RequestsPerMinuteGive429WithRetryAfterPerKey()
    {
        using var http = server.Client(SecuredServer.Key2);
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (int i = 0; i < SecuredServer.RequestsPerMinute + 2; i++)
        {
            var response = await http.GetAsync("/v1/models");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited ??= response;
        }
        Assert.Equal(SecuredServer.RequestsPerMinute, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.NotNull(limited);
        Assert.True(limited!.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        var error = JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal("rate_limit_exceeded", error["code"]!.GetValue<string>());
        // Another key is not affected.
        using var other = server.Client(SecuredServer.Key3);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/v1/models")).StatusCode);
    }

    [Fact]
    public async Task TokensPerMinuteGive429()
    {
        using var http = server.Client(SecuredServer.Key3);
        // Above the whole per-minute budget: refused at once.
        var (status, json, response) = await server.PostAsync("/v1/completions", """{"prompt":"x","max_tokens":2000}""", http);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("tokens", json!["error"]!["type"]!.GetValue<string>());
        Assert.NotNull(response.Headers.RetryAfter);
        // Two requests of ~1000 tokens each: the second exceeds the 1500 tokens/min budget. A logit bias on EOS ends each after one token.
        int eos = server.App.Services.GetRequiredService<ServedModel>().Codec.Tokenizer.EosTokenId!.Value;
        var cheap = "{\"prompt\":\"x\",\"max_tokens\":1000,\"logit_bias\":{\"" + eos + "\":100}}";
        (status, json, _) = await server.PostAsync("/v1/completions", cheap, http);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("stop", json!["choices"]![0]!["finish_reason"]!.GetValue<string>());
        (status, json, response) = await server.PostAsync("/v1/completions", cheap, http);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("rate_limit_exceeded", json!["error"]!["code"]!.GetValue<string>());
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
    }

    [Fact]
    public async Task SaturatedClusterGives429WithRetryAfter()
    {
        using var http = server.Client(SecuredServer.Key1);
        const string Long = """{"messages":[{"role":"user","content":"Hi"}],"max_tokens":300,"ignore_eos":true,"stream":true}""";
        // The engine runs one sequence and queues one more: the third request is refused.
        var running = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = GatewayServer.JsonBody(Long) },
            HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, running.StatusCode);
        using var queuedCancel = new CancellationTokenSource();
        var queued = http.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = GatewayServer.JsonBody(Long) },
            HttpCompletionOption.ResponseHeadersRead, queuedCancel.Token);
        var until = DateTime.UtcNow.AddSeconds(10);
        while (server.EngineStats.Waiting == 0 && DateTime.UtcNow < until) await Task.Delay(20);
        Assert.Equal(1, server.EngineStats.Waiting);

        var (status, json, response) = await server.PostAsync("/v1/chat/completions", Small, http);
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
        Assert.Equal("server_overloaded", json!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromSeconds(2), response.Headers.RetryAfter?.Delta);

        running.Dispose();
        queuedCancel.Cancel();
        try { (await queued).Dispose(); } catch (OperationCanceledException) { }
        var idle = await server.WaitForIdleEngine(TimeSpan.FromSeconds(15));
        Assert.Equal(0, idle.CacheBlocksUsed);
        Assert.Equal(0, idle.Waiting);
    }
}
