using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>Raw HTTP: SSE framing, bad input, disconnects, WebSocket, health and the mesh view.</summary>
public sealed class ProtocolTests(OpenServer server) : IClassFixture<OpenServer>
{
    const string Hello = """{"role":"user","content":"Hello!"}""";

    static List<JsonNode> Frames(string body, out bool done)
    {
        Assert.EndsWith("\n\n", body);
        var frames = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(frames, f => Assert.StartsWith("data: ", f));
        done = frames[^1] == "data: [DONE]";
        return frames.Where(f => f != "data: [DONE]").Select(f => JsonNode.Parse(f["data: ".Length..])!).ToList();
    }

    [Fact]
    public async Task ChatSseFramesAreOpenAIs()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = GatewayServer.JsonBody($$$"""{"model":"{{{server.ModelId}}}","messages":[{{{Hello}}}],"max_tokens":5,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}"""),
        };
        using var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        var chunks = Frames(await response.Content.ReadAsStringAsync(), out var done);
        Assert.True(done);
        var id = chunks[0]["id"]!.GetValue<string>();
        Assert.StartsWith("chatcmpl-", id);
        Assert.All(chunks, c =>
        {
            Assert.Equal("chat.completion.chunk", c["object"]!.GetValue<string>());
            Assert.Equal(id, c["id"]!.GetValue<string>());
            Assert.Equal(server.ModelId, c["model"]!.GetValue<string>());
            Assert.True(c.AsObject().ContainsKey("usage"));
        });
        Assert.Equal("assistant", chunks[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
        var usageChunk = chunks[^1];
        Assert.Empty(usageChunk["choices"]!.AsArray());
        Assert.Equal(5, usageChunk["usage"]!["completion_tokens"]!.GetValue<int>());
        var last = chunks[^2]["choices"]![0]!;
        Assert.Equal("length", last["finish_reason"]!.GetValue<string>());
        Assert.All(chunks.Take(chunks.Count - 2), c => Assert.Null(c["choices"]![0]!["finish_reason"]));
        Assert.All(chunks.Take(chunks.Count - 1), c => Assert.Null(c["usage"]));

        // Without include_usage there is no usage field and no usage chunk.
        var plain = await server.Http.PostAsync("/v1/chat/completions", GatewayServer.JsonBody($$"""{"messages":[{{Hello}}],"max_tokens":2,"stream":true}"""));
        var plainChunks = Frames(await plain.Content.ReadAsStringAsync(), out var plainDone);
        Assert.True(plainDone);
        Assert.All(plainChunks, c => Assert.False(c.AsObject().ContainsKey("usage")));
        Assert.NotNull(plainChunks[^1]["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task CompletionSseFramesAndStopStrings()
    {
        var response = await server.Http.PostAsync("/v1/completions", GatewayServer.JsonBody("""{"prompt":"Once upon a time","max_tokens":4,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}"""));
        var chunks = Frames(await response.Content.ReadAsStringAsync(), out var done);
        Assert.True(done);
        Assert.All(chunks, c => Assert.Equal("text_completion", c["object"]!.GetValue<string>()));
        Assert.Equal(4, chunks[^1]["usage"]!["completion_tokens"]!.GetValue<int>());
        var text = string.Concat(chunks.SkipLast(1).Select(c => c["choices"]![0]!["text"]!.GetValue<string>()));
        var (_, full, _) = await server.PostAsync("/v1/completions", """{"prompt":"Once upon a time","max_tokens":4,"temperature":0}""");
        Assert.Equal(full!["choices"]![0]!["text"]!.GetValue<string>(), text);

        // A stop string taken from the greedy text itself cuts the text before it, with finish_reason "stop".
        var (_, longer, _) = await server.PostAsync("/v1/completions", """{"prompt":"Once upon a time","max_tokens":12,"temperature":0}""");
        var generated = longer!["choices"]![0]!["text"]!.GetValue<string>();
        var stop = generated.Length >= 6 ? generated.Substring(generated.Length / 2, 3) : null;
        if (stop is not null)
        {
            var (_, cut, _) = await server.PostAsync("/v1/completions", $$"""{"prompt":"Once upon a time","max_tokens":12,"temperature":0,"stop":[{{System.Text.Json.JsonSerializer.Serialize(stop)}}]}""");
            var choice = cut!["choices"]![0]!;
            Assert.Equal(generated[..generated.IndexOf(stop, StringComparison.Ordinal)], choice["text"]!.GetValue<string>());
            Assert.Equal("stop", choice["finish_reason"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task SeveralChoicesStreamInterleavedWithTheirOwnIndexAndLogprobs()
    {
        const string Body = """{"messages":[{"role":"user","content":"Tell me a joke"}],"n":3,"max_tokens":4,"temperature":1,"seed":7,"logprobs":true,"top_logprobs":2,"stream":true,"stream_options":{"include_usage":true}}""";
        var response = await server.Http.PostAsync("/v1/chat/completions", GatewayServer.JsonBody(Body));
        var chunks = Frames(await response.Content.ReadAsStringAsync(), out var done);
        Assert.True(done);
        var perChoice = chunks.Where(c => c["choices"]!.AsArray().Count == 1).GroupBy(c => c["choices"]![0]!["index"]!.GetValue<int>()).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal([0, 1, 2], perChoice.Keys.Order());
        foreach (var (_, list) in perChoice)
        {
            Assert.Equal("assistant", list[0]["choices"]![0]!["delta"]!["role"]!.GetValue<string>());
            Assert.Equal("length", list[^1]["choices"]![0]!["finish_reason"]!.GetValue<string>());
            var logprobs = list.Select(c => c["choices"]![0]!["logprobs"]).OfType<JsonObject>().SelectMany(l => l["content"]!.AsArray()).ToList();
            Assert.Equal(4, logprobs.Count);
            Assert.All(logprobs, l => Assert.Equal(2, l!["top_logprobs"]!.AsArray().Count));
        }
        Assert.Equal(12, chunks[^1]["usage"]!["completion_tokens"]!.GetValue<int>());

        // Non-streamed, the same seed gives the same three texts.
        var (_, full, _) = await server.PostAsync("/v1/chat/completions", Body.Replace(",\"stream\":true,\"stream_options\":{\"include_usage\":true}", ""));
        var texts = full!["choices"]!.AsArray().Select(c => c!["message"]!["content"]!.GetValue<string>()).ToArray();
        for (int i = 0; i < 3; i++)
            Assert.Equal(texts[i], string.Concat(perChoice[i].Select(c => c["choices"]![0]!["delta"]!["content"]?.GetValue<string>())));
        Assert.Equal(12, full["usage"]!["completion_tokens"]!.GetValue<int>());
    }

    public static TheoryData<string, string, int, string?> BadRequests => new()
    {
        { "/v1/chat/completions", "{not json", 400, null },
        { "/v1/chat/completions", "[1,2,3]", 400, null },
        { "/v1/chat/completions", "{}", 400, "messages" },
        { "/v1/chat/completions", """{"messages":[]}""", 400, "messages" },
        { "/v1/chat/completions", """{"messages":"hello"}""", 400, "messages" },
        { "/v1/chat/completions", """{"messages":[{"role":"wizard","content":"x"}]}""", 400, "messages" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":42}]}""", 400, "messages" },
        { "/v1/chat/completions", """{"model":"gpt-4o","messages":[{"role":"user","content":"x"}]}""", 404, "model" },
        { "/v1/chat/completions", """{"model":7,"messages":[{"role":"user","content":"x"}]}""", 400, "model" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"temperature":"warm"}""", 400, "temperature" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"temperature":3}""", 400, "temperature" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"top_p":0}""", 400, "top_p" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"top_k":-5}""", 400, "top_k" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"min_p":2}""", 400, "min_p" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"repetition_penalty":0}""", 400, "repetition_penalty" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"presence_penalty":9}""", 400, "presence_penalty" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"frequency_penalty":-9}""", 400, "frequency_penalty" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"max_tokens":0}""", 400, "max_tokens" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"max_tokens":1.5}""", 400, "max_tokens" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"max_tokens":100000}""", 400, "max_tokens" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"max_completion_tokens":5000}""", 400, "max_completion_tokens" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"n":0}""", 400, "n" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"n":500}""", 400, "n" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"stop":5}""", 400, "stop" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"logit_bias":{"x":1}}""", 400, "logit_bias" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"logit_bias":{"5":500}}""", 400, "logit_bias" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"logit_bias":{"99999999":1}}""", 400, "logit_bias" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":50}""", 400, "top_logprobs" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"top_logprobs":2}""", 400, "top_logprobs" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"seed":"abc"}""", 400, "seed" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"stream":"yes"}""", 400, "stream" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}""", 400, "stream_options" },
        { "/v1/chat/completions", """{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema"}}""", 400, "response_format" },
        { "/v1/completions", "{}", 400, "prompt" },
        { "/v1/completions", """{"prompt":[]}""", 400, "prompt" },
        { "/v1/completions", """{"prompt":{"a":1}}""", 400, "prompt" },
        { "/v1/completions", """{"prompt":[1,"a"]}""", 400, "prompt" },
        { "/v1/completions", """{"prompt":[-1,2]}""", 400, "prompt" },
        { "/v1/completions", """{"prompt":[5000000]}""", 400, "prompt" },
        { "/v1/completions", """{"prompt":"x","logprobs":99}""", 400, "logprobs" },
        { "/v1/completions", """{"prompt":"x","suffix":"y"}""", 400, "suffix" },
        { "/v1/completions", """{"prompt":"x","best_of":3}""", 400, "best_of" },
        { "/v1/completions", """{"prompt":"x","max_tokens":-1}""", 400, "max_tokens" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInputIsAnOpenAIError(string path, string body, int status, string? param)
    {
        var (code, json, response) = await server.PostAsync(path, body);
        Assert.Equal(status, (int)code);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        var error = json!["error"]!;
        Assert.False(string.IsNullOrEmpty(error["message"]!.GetValue<string>()));
        Assert.Equal("invalid_request_error", error["type"]!.GetValue<string>());
        Assert.True(error.AsObject().ContainsKey("param") && error.AsObject().ContainsKey("code"));
        Assert.Equal(param, error["param"]?.GetValue<string>());
    }

    [Theory]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"temperature":"warm"}""", "Invalid type for 'temperature': expected a number, but got a string instead.")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"max_tokens":1.5}""", "Invalid type for 'max_tokens': expected an integer, but got a number instead.")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"n":5000000000}""", "'n' is out of range: 5000000000.")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"seed":"abc"}""", "Invalid type for 'seed': expected an integer, but got a string instead.")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":"x"}}""", "Invalid type for 'include_usage': expected a boolean, but got a string instead.")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"model":7}""", "Invalid type for 'model': expected a string, but got a number instead.")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"stop":[1]}""", "Invalid type for 'stop': expected a string or an array of strings, but got a number instead.")]
    [InlineData("""[1]""", "The request body must be a JSON object.")]
    public async Task InvalidFieldsKeepTheirMessages(string body, string message)
    {
        var (status, json, _) = await server.PostAsync("/v1/chat/completions", body);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message, json!["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task PromptLongerThanTheContextAndBodiesOverTheLimit()
    {
        // The tiny model's context is 4096 tokens; 5000 ids is longer.
        var ids = string.Join(",", Enumerable.Repeat(300, 5000));
        var (status, json, _) = await server.PostAsync("/v1/completions", $$"""{"prompt":[{{ids}}],"max_tokens":1}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_length_exceeded", json!["error"]!["code"]!.GetValue<string>());
        var words = string.Concat(Enumerable.Repeat("hello world ", 3000));
        (status, json, _) = await server.PostAsync("/v1/chat/completions", $$"""{"messages":[{"role":"user","content":"{{words}}"}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("context_length_exceeded", json!["error"]!["code"]!.GetValue<string>());

        var huge = "{\"prompt\":\"" + new string('a', 5 << 20) + "\"}";
        // Expect: 100-continue lets the client hear the 413 before uploading the body (else it may see a broken pipe
        // while still sending: the server answers from Content-Length alone and does not read 5 MB it will refuse).
        var tooLarge = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = GatewayServer.JsonBody(huge) };
        tooLarge.Headers.ExpectContinue = true;
        var refused = await server.Http.SendAsync(tooLarge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Equal("request_too_large", JsonNode.Parse(await refused.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());

        // Unknown routes and models are 404s in the same format; the server is still healthy after all of it.
        (status, json, _) = await server.PostAsync("/v1/embeddings", "{}");
        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.NotNull(json!["error"]);
        var model = await server.Http.GetAsync("/v1/models/nope");
        Assert.Equal(HttpStatusCode.NotFound, model.StatusCode);
        Assert.Equal("model_not_found", JsonNode.Parse(await model.Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task DisconnectedStreamCancelsItsGenerationAndFreesTheCache()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = GatewayServer.JsonBody($$"""{"messages":[{{Hello}}],"max_tokens":3000,"ignore_eos":true,"stream":true}"""),
        };
        var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        for (int i = 0; i < 6; i++) await reader.ReadLineAsync();
        var busy = server.EngineStats;
        Assert.Equal(1, busy.Running);
        Assert.True(busy.CacheBlocksUsed > 0);
        response.Dispose(); // the client goes away
        var idle = await server.WaitForIdleEngine(TimeSpan.FromSeconds(15));
        Assert.Equal(0, idle.Running);
        Assert.Equal(0, idle.CacheBlocksUsed);

        // A non-streamed request whose client gives up is cancelled the same way.
        using var cts = new CancellationTokenSource();
        var pending = server.Http.PostAsync("/v1/completions", GatewayServer.JsonBody("""{"prompt":"x","max_tokens":3000,"ignore_eos":true}"""), cts.Token);
        var until = DateTime.UtcNow.AddSeconds(10);
        while (server.EngineStats.Running == 0 && DateTime.UtcNow < until) await Task.Delay(20);
        Assert.Equal(1, server.EngineStats.Running);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        idle = await server.WaitForIdleEngine(TimeSpan.FromSeconds(15));
        Assert.Equal(0, idle.Running);
        Assert.Equal(0, idle.CacheBlocksUsed);
    }

    [Fact]
    public async Task WebSocketStreamsDeltasThenAFinalMessage()
    {
        using var socket = new ClientWebSocket();
        var uri = new UriBuilder(server.BaseAddress) { Scheme = "ws", Path = "/ws" }.Uri;
        await socket.ConnectAsync(uri, CancellationToken.None);
        var (_, reference, _) = await server.PostAsync("/v1/chat/completions", $$"""{"messages":[{{Hello}}],"max_tokens":6,"temperature":0}""");
        for (int round = 0; round < 2; round++) // two requests on one connection
        {
            await Send(socket, $$"""{"messages":[{{Hello}}],"max_tokens":6,"temperature":0}""");
            var text = new StringBuilder();
            JsonNode final;
            while (true)
            {
                var message = await Receive(socket);
                if (message["object"]!.GetValue<string>() == "chat.completion.done") { final = message; break; }
                Assert.Equal("chat.completion.chunk", message["object"]!.GetValue<string>());
                text.Append(message["choices"]![0]!["delta"]!["content"]?.GetValue<string>());
            }
            Assert.Equal(reference!["choices"]![0]!["message"]!["content"]!.GetValue<string>(), text.ToString());
            Assert.Equal(reference["choices"]![0]!["finish_reason"]!.GetValue<string>(), final["choices"]![0]!["finish_reason"]!.GetValue<string>());
            Assert.Equal(reference["usage"]!["completion_tokens"]!.GetValue<int>(), final["usage"]!["completion_tokens"]!.GetValue<int>());
        }
        await Send(socket, """{"messages":[]}""");
        var error = await Receive(socket);
        Assert.Equal("messages", error["error"]!["param"]!.GetValue<string>());

        // Closing the socket mid-generation cancels it.
        await Send(socket, $$"""{"messages":[{{Hello}}],"max_tokens":3000,"ignore_eos":true}""");
        await Receive(socket);
        await Receive(socket);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        var idle = await server.WaitForIdleEngine(TimeSpan.FromSeconds(15));
        Assert.Equal(0, idle.CacheBlocksUsed);
    }

    static Task Send(ClientWebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text, true, CancellationToken.None);

    static async Task<JsonNode> Receive(ClientWebSocket socket)
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage) return JsonNode.Parse(message.ToArray())!;
        }
    }

    [Fact]
    public async Task HealthReadinessAndTheMeshView()
    {
        Assert.Equal("ok", JsonNode.Parse(await server.Http.GetStringAsync("/health"))!["status"]!.GetValue<string>());
        var ready = JsonNode.Parse(await server.Http.GetStringAsync("/health/ready"))!;
        Assert.Equal("ready", ready["status"]!.GetValue<string>());
        Assert.Equal(1, ready["silos"]!.GetValue<int>());

        await server.PostAsync("/v1/completions", """{"prompt":"Experts, assemble","max_tokens":3}""");
        JsonNode mesh;
        var until = DateTime.UtcNow.AddSeconds(10);
        do
        {
            mesh = JsonNode.Parse(await server.Http.GetStringAsync("/v1/mesh"))!;
            if (mesh["expert_tokens_total"]!.GetValue<long>() > 0) break;
            await Task.Delay(200);
        } while (DateTime.UtcNow < until);
        var silo = Assert.Single(mesh["silos"]!.AsArray())!;
        Assert.Equal("all", silo["role"]!.GetValue<string>());
        Assert.True(silo["activations"]!["dsm-expert"]!.GetValue<int>() > 0);
        Assert.NotEmpty(silo["experts"]!.AsArray());
        var experts = mesh["experts"]!.AsArray();
        Assert.NotEmpty(experts);
        Assert.All(experts, e => Assert.True(e!["layer"]!.GetValue<int>() >= 1)); // layer 0 is dense in the tiny preset
        Assert.True(mesh["expert_tokens_total"]!.GetValue<long>() > 0);
        Assert.Equal(0, mesh["engine"]!["cache_blocks_used"]!.GetValue<int>());
        Assert.True(mesh["engine"]!["expert_calls"]!.GetValue<long>() > 0);
        // the placement plan: this one silo hosts every expert
        Assert.True(mesh["plan"]!["version"]!.GetValue<long>() > 0);
        Assert.Equal(1, mesh["plan"]!["expert_silos"]!.GetValue<int>());
        Assert.Equal(silo["plan_version"]!.GetValue<long>(), mesh["plan"]!["version"]!.GetValue<long>());
        Assert.True(silo["hosted_experts"]!.GetValue<int>() > 0);
        Assert.True(silo["expert_bytes"]!.GetValue<long>() > 0);
        Assert.True(silo["expert_rows"]!.GetValue<long>() > 0);
    }
}
