using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Orleans.Hosting;
using Orleans.Runtime;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>
/// A frontend silo killed with SIGKILL under load, behind a separate `dsmesh gateway` process (Redis
/// membership, 2 frontends + 1 expert silo): the non-streamed requests it held are answered by the other
/// frontend with the text they would have had (same seed, and greedy); its streams end with an SSE error
/// event (a WebSocket's with an error message), none hangs; new requests are served by the survivor; /health/ready stays ready while one frontend
/// lives, and turns not ready when none does.
/// </summary>
public sealed class FrontendLossTests
{
    const int NonStreamed = 8, Streamed = 8, WebSockets = 2;

    static JsonObject Completion(int i, int maxTokens, bool stream) => new()
    {
        ["prompt"] = $"Request {i}: tell me about frontends and failover.",
        ["max_tokens"] = maxTokens,
        ["ignore_eos"] = true,
        ["stream"] = stream,
        // Half sampled with a seed, half greedy: both must come out the same on the survivor. (A random-weight
        // model's distribution is nearly flat over 129k tokens; top_k keeps a sample from depending on the
        // last bits of logits that differ with the batch a request happens to share.)
        ["temperature"] = i % 2 == 0 ? 0.8 : 0.0,
        ["top_k"] = 3,
        ["seed"] = 1000 + i,
    };

    static async Task<(HttpStatusCode Status, string Body)> PostAsync(HttpClient http, JsonObject body, CancellationToken ct = default)
    {
        using var response = await http.PostAsync("/v1/completions", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    static string TextOf(string body) => JsonNode.Parse(body)!["choices"]![0]!["text"]!.GetValue<string>();

    /// <summary>How a stream ended: its token frames, whether it finished, its error frame if any, when it ended and when its last token came (ms on the test's clock).</summary>
    sealed record StreamEnd(int Tokens, bool Finished, string? Error, double EndedAtMs, double LastTokenAtMs);

    /// <summary>Reads an SSE completion stream until it ends or <paramref name="stop"/> (then: disconnects).</summary>
    static async Task<StreamEnd> StreamAsync(HttpClient http, JsonObject body, Stopwatch clock, Action onToken, CancellationToken stop)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        int tokens = 0;
        bool finished = false;
        string? error = null;
        double lastToken = 0;
        while (true)
        {
            string? line;
            try
            {
                line = await reader.ReadLineAsync(stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (line is null) break;
            if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
            var data = line["data: ".Length..];
            if (data == "[DONE]") continue;
            var frame = JsonNode.Parse(data)!;
            if (frame["error"] is { } e)
            {
                error = e.ToJsonString();
                continue;
            }
            foreach (var choice in frame["choices"]!.AsArray())
            {
                if (choice!["text"]!.GetValue<string>().Length > 0 || choice["finish_reason"] is not null)
                {
                    tokens++;
                    lastToken = clock.Elapsed.TotalMilliseconds;
                    onToken();
                }
                if (choice["finish_reason"] is not null) finished = true;
            }
        }
        return new StreamEnd(tokens, finished, error, clock.Elapsed.TotalMilliseconds, lastToken);
    }

    /// <summary>The same over the WebSocket: a chat request, its chunks until the done message, an error message, or <paramref name="stop"/>.</summary>
    static async Task<StreamEnd> WebSocketAsync(Uri gateway, int i, Stopwatch clock, Action onToken, CancellationToken stop)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(gateway) { Scheme = "ws", Path = "/ws" }.Uri, CancellationToken.None);
        var chat = new JsonObject
        {
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = $"WebSocket {i}: tell me about failover." }),
            ["max_tokens"] = 2000,
            ["ignore_eos"] = true,
        };
        await socket.SendAsync(Encoding.UTF8.GetBytes(chat.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        int tokens = 0;
        double lastToken = 0;
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var message = new MemoryStream();
            try
            {
                WebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer, stop);
                    message.Write(buffer, 0, result.Count);
                }
                while (!result.EndOfMessage);
            }
            catch (OperationCanceledException)
            {
                return new StreamEnd(tokens, false, null, clock.Elapsed.TotalMilliseconds, lastToken);
            }
            var frame = JsonNode.Parse(message.ToArray())!;
            if (frame["error"] is { } e) return new StreamEnd(tokens, false, e.ToJsonString(), clock.Elapsed.TotalMilliseconds, lastToken);
            if (frame["object"]!.GetValue<string>() == "chat.completion.done") return new StreamEnd(tokens, true, null, clock.Elapsed.TotalMilliseconds, lastToken);
            tokens++;
            lastToken = clock.Elapsed.TotalMilliseconds;
            onToken();
        }
    }

    static async Task<bool> ReadyAsync(HttpClient http)
    {
        try
        {
            using var response = await http.GetAsync("/health/ready");
            return response.StatusCode == HttpStatusCode.OK;
        }
        catch (HttpRequestException) { return false; }
        catch (TaskCanceledException) { return false; }
    }

    [Fact]
    public async Task AFrontendKilledUnderLoadLosesNoAnswerAndEndsItsStreamsWithAnError()
    {
        var model = TestModels.TinyWithTokenizer;
        using var redis = await RedisServer.StartAsync();
        await using var processes = new SiloProcesses();
        var clusterId = $"dsmesh-frontends-{Guid.NewGuid():N}";
        var clustering = $"--redis {redis.Connection}";
        var frontends = new[] { processes.Start("frontend", model, clustering, clusterId), processes.Start("frontend", model, clustering, clusterId) };
        processes.Start("expert", model, clustering, clusterId);
        var gateway = processes.StartGateway(model, clustering, clusterId);
        await processes.ConnectAsync(c => c.UseRedisClustering(redis.Connection), clusterId);
        await processes.WaitForSilosAsync(3, TimeSpan.FromSeconds(90));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{gateway.HttpPort}"), Timeout = TimeSpan.FromSeconds(90) };
        for (var deadline = DateTime.UtcNow.AddSeconds(90); !await ReadyAsync(http);)
        {
            Assert.True(DateTime.UtcNow < deadline && !gateway.HasExited, $"the gateway never got ready\n{Logs(processes)}");
            await Task.Delay(250);
        }

        // What each non-streamed request answers when nothing fails.
        const int maxTokens = 32;
        var expected = await Task.WhenAll(Enumerable.Range(0, NonStreamed).Select(async i =>
        {
            var (status, body) = await PostAsync(http, Completion(i, maxTokens, stream: false));
            Assert.True(status == HttpStatusCode.OK, $"{status} {body}\n{Logs(processes)}");
            return TextOf(body);
        }));

        // Load: the same requests again, and streams long enough to be cut.
        var clock = Stopwatch.StartNew();
        int streamTokens = 0;
        using var stopStreams = new CancellationTokenSource();
        var answers = Enumerable.Range(0, NonStreamed).Select(i => PostAsync(http, Completion(i, maxTokens, stream: false))).ToArray();
        var streams = Enumerable.Range(0, Streamed).Select(i => StreamAsync(http, Completion(100 + i, 2000, stream: true), clock,
            () => Interlocked.Increment(ref streamTokens), stopStreams.Token))
            .Concat(Enumerable.Range(0, WebSockets).Select(i => WebSocketAsync(http.BaseAddress!, i, clock, () => Interlocked.Increment(ref streamTokens), stopStreams.Token)))
            .ToArray();
        while (Volatile.Read(ref streamTokens) < 2 * (Streamed + WebSockets)) await Task.Delay(20);

        // The victim: the frontend that holds the most completion grains.
        var activations = await processes.Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        var held = activations.Where(a => a.GrainId.Type.ToString() == "dsm-completion").GroupBy(a => a.SiloAddress.Endpoint.Port).ToDictionary(g => g.Key, g => g.Count());
        var victim = frontends.MaxBy(f => held.GetValueOrDefault(f.SiloPort))!;
        var survivor = frontends.Single(f => f != victim);
        victim.Kill();
        double killedAt = clock.Elapsed.TotalMilliseconds;

        // Meanwhile: new requests every 250 ms, and the readiness probe.
        var fresh = new ConcurrentBag<(double SentAfterKill, double Latency, HttpStatusCode Status, string Body)>();
        var notReady = new ConcurrentBag<double>();
        using var stopProbes = new CancellationTokenSource();
        var probes = Task.Run(async () =>
        {
            var sent = new List<Task>();
            for (int k = 0; !stopProbes.IsCancellationRequested; k++)
            {
                double at = clock.Elapsed.TotalMilliseconds - killedAt;
                sent.Add(Task.Run(async () =>
                {
                    var t0 = clock.Elapsed.TotalMilliseconds;
                    var (status, body) = await PostAsync(http, Completion(200 + k, 4, stream: false));
                    fresh.Add((at, clock.Elapsed.TotalMilliseconds - t0, status, body));
                }));
                if (!await ReadyAsync(http)) notReady.Add(clock.Elapsed.TotalMilliseconds - killedAt);
                await Task.Delay(250);
            }
            await Task.WhenAll(sent);
        });

        var answered = await Task.WhenAll(answers).WaitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, 8 - (clock.Elapsed.TotalMilliseconds - killedAt) / 1000)));
        double stoppedAt = clock.Elapsed.TotalMilliseconds;
        stopStreams.Cancel(); // the streams on the survivor are still going: leave them
        var ended = await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(30));
        stopProbes.Cancel();
        await probes.WaitAsync(TimeSpan.FromSeconds(60));

        // Non-streamed: every one answered, with the text it had without the failure.
        for (int i = 0; i < NonStreamed; i++)
        {
            Assert.True(answered[i].Status == HttpStatusCode.OK, $"request {i}: {answered[i].Status} {answered[i].Body}\n{Logs(processes)}");
            Assert.True(expected[i] == TextOf(answered[i].Body), $"request {i}: '{TextOf(answered[i].Body)}' != '{expected[i]}'\n{gateway.Log}");
        }
        // Streamed: those on the victim ended with an OpenAI error frame soon after the kill; the others kept streaming.
        var cut = ended.Where(e => e.Error is not null).ToList();
        Assert.NotEmpty(cut);
        Assert.All(ended, e => Assert.True(e.Error is not null || e.LastTokenAtMs > stoppedAt - 2000,
            $"a stream neither ended with an error nor kept streaming (last token {stoppedAt - e.LastTokenAtMs:F0} ms before the end): {e}"));
        foreach (var e in cut)
        {
            var error = JsonNode.Parse(e.Error!)!;
            Assert.Equal("server_error", error["type"]!.GetValue<string>());
            Assert.Equal("frontend_lost", error["code"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(error["message"]!.GetValue<string>()));
        }
        double slowestCut = cut.Max(e => e.EndedAtMs) - killedAt;
        Assert.True(slowestCut < 20_000, $"a cut stream took {slowestCut:F0} ms after the kill to end");

        // New requests: all answered; the gateway retried the ones that met the dead frontend.
        var late = fresh.OrderBy(f => f.SentAfterKill).ToList();
        Assert.All(late, f => Assert.True(f.Status == HttpStatusCode.OK, $"new request {f.SentAfterKill:F0} ms after the kill: {f.Status} {f.Body}"));
        var afterTwo = late.Where(f => f.SentAfterKill >= 2000).ToList();
        Assert.NotEmpty(afterTwo);
        // Retried, not hung: a request lost with its gateway would wait out Orleans' 30 s response timeout,
        // one placed on the dead frontend the 10 s the gateway once gave its first call. The goal is 2 s
        // (measured quiet: max 0.3-1.4 s); 6 s leaves room for a loaded CI machine and still tells them apart.
        Assert.True(late.Max(f => f.Latency) < 6_000, $"a new request took {late.Max(f => f.Latency):F0} ms");
        Assert.Empty(notReady); // one frontend lives: ready throughout
        var mesh = JsonNode.Parse(await http.GetStringAsync("/v1/mesh"))!;
        long retries = mesh["gateway"]!["frontend_retries"]!.GetValue<long>();
        Assert.True(retries >= 1, "no request was retried, yet the victim held some");

        Console.WriteLine($"kill -9 of 1 of 2 frontends (held {held.GetValueOrDefault(victim.SiloPort)} of {NonStreamed + Streamed + WebSockets} requests): " +
            $"{NonStreamed}/{NonStreamed} non-streamed answered with their own text ({retries} choice retries), {cut.Count}/{Streamed + WebSockets} streams (SSE and WebSocket) cut with an error " +
            $"(last {slowestCut:F0} ms after the kill; e.g. {cut[0].Error}), new requests: {late.Count} all 200, latency p50/max " +
            $"{Median(late.Select(f => f.Latency)):F0}/{late.Max(f => f.Latency):F0} ms (sent >= 2 s after: max {afterTwo.Max(f => f.Latency):F0} ms), ready throughout");

        // The last frontend gone: not ready.
        survivor.Kill();
        for (var deadline = DateTime.UtcNow.AddSeconds(30); await ReadyAsync(http);)
        {
            Assert.True(DateTime.UtcNow < deadline, "/health/ready still ready 30 s after the last frontend died");
            await Task.Delay(250);
        }
    }

    static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
    }

    static string Logs(SiloProcesses processes) => string.Join("\n", processes.Silos.Select(s => $"--- {s.Role} :{s.SiloPort}{s.HttpPort}\n{s.Log}"));
}
