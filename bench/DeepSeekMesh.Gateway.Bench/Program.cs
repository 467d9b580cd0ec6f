using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

// Load generator for a running `dsmesh serve` / `dsmesh gateway`, from a second process, loopback only.
//   http mode:   N concurrent streaming chat clients (SSE) for a fixed time: requests/s, output tokens/s,
//                time to first token and inter-token latency p50/p99, and the gateway's own pipeline
//                time per token (from GET /v1/mesh, before/after).
//   direct mode: the same requests straight to the completion grains through an Orleans client
//                (the serve's --gateway-port): the same latencies without HTTP, SSE or detokenization.
var a = Args.Parse(args);
var url = new Uri(a.Get("--url", "http://127.0.0.1:8000"));
if (!IPAddress.IsLoopback((await Dns.GetHostAddressesAsync(url.Host)).First()))
    throw new ArgumentException("--url must be a loopback address: this load generator only targets this machine");
string mode = a.Get("--mode", "http");
int concurrency = int.Parse(a.Get("--concurrency", "4"), CultureInfo.InvariantCulture);
double duration = double.Parse(a.Get("--duration", "20"), CultureInfo.InvariantCulture);
int maxRequests = int.Parse(a.Get("--max-requests", "10000"), CultureInfo.InvariantCulture);
int maxTokens = int.Parse(a.Get("--max-tokens", "32"), CultureInfo.InvariantCulture);
string prompt = a.Get("--prompt", "Write a short story about a lighthouse keeper.");
string? key = a.GetOrNull("--api-key");
if (concurrency is < 1 or > 256 || duration is <= 0 or > 600 || maxTokens is < 1 or > 4096)
    throw new ArgumentException("bounds: concurrency 1..256, duration (s) 0..600, max-tokens 1..4096");

var stats = new Stats();
var deadline = Stopwatch.StartNew();
int started = 0;
bool More() => deadline.Elapsed.TotalSeconds < duration && Interlocked.Increment(ref started) <= maxRequests;

using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(120) };
if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
var meshBefore = await Mesh(http);
string model = JsonNode.Parse(await http.GetStringAsync("/v1/models"))!["data"]![0]!["id"]!.GetValue<string>();

if (mode == "http")
{
    var body = JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["model"] = model,
        ["messages"] = new[] { new Dictionary<string, string> { ["role"] = "user", ["content"] = prompt } },
        ["max_tokens"] = maxTokens,
        ["temperature"] = 0,
        ["ignore_eos"] = true,
        ["stream"] = true,
        ["stream_options"] = new Dictionary<string, bool> { ["include_usage"] = true },
    });
    deadline.Restart();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (More())
        {
            var clock = Stopwatch.StartNew();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode) { stats.Error((int)response.StatusCode); continue; }
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var times = new List<double>();
            int tokens = 0;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal) || line == "data: [DONE]") continue;
                var chunk = JsonNode.Parse(line.AsSpan(6).ToString())!;
                if (chunk["usage"] is JsonObject usage) tokens = usage["completion_tokens"]!.GetValue<int>();
                if (chunk["choices"]!.AsArray() is [{ } choice, ..] && choice["delta"]?["content"]?.GetValue<string>() is { Length: > 0 })
                    times.Add(clock.Elapsed.TotalMilliseconds);
            }
            stats.Add(times, tokens);
        }
    }));
}
else if (mode == "direct")
{
    var orleans = a.Get("--orleans", "127.0.0.1:30000").Split(':');
    var codec = TextCodec.FromDirectory(a.GetOrNull("--model-dir") ?? throw new ArgumentException("direct mode needs --model-dir (for the chat template)"));
    var ids = codec.EncodeChat([DeepSeekMesh.ChatTemplates.ChatMessage.User(prompt)]);
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.UseOrleansClient(c =>
    {
        c.Configure<ClusterOptions>(o => { o.ClusterId = a.Get("--cluster-id", "dsmesh"); o.ServiceId = "dsmesh"; });
        c.UseStaticClustering(new IPEndPoint(IPAddress.Parse(orleans[0]), int.Parse(orleans[1], CultureInfo.InvariantCulture)));
    });
    using var host = builder.Build();
    await host.StartAsync();
    var grains = host.Services.GetRequiredService<IClusterClient>();
    var sampling = SamplingParams.Greedy with { MaxTokens = maxTokens, IgnoreEos = true };
    deadline.Restart();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (More())
        {
            var clock = Stopwatch.StartNew();
            var times = new List<double>();
            var text = codec.NewStream();
            try
            {
                await foreach (var t in grains.GetGrain<ICompletionGrain>(Guid.NewGuid().ToString("N")).Generate(ids, sampling))
                {
                    text.Push(t.TokenId); // the same detokenization work a client of the grains would do
                    times.Add(clock.Elapsed.TotalMilliseconds);
                }
                stats.Add(times, times.Count);
            }
            catch (CompletionRejectedException) { stats.Error(429); }
        }
    }));
    await host.StopAsync();
}
else throw new ArgumentException("--mode http|direct");

double elapsed = deadline.Elapsed.TotalSeconds;
var meshAfter = await Mesh(http);
stats.Report(mode, concurrency, elapsed, maxTokens);
if (meshBefore is not null && meshAfter is not null)
{
    double us = meshAfter["pipeline_us_total"]!.GetValue<double>() - meshBefore["pipeline_us_total"]!.GetValue<double>();
    long tokens = meshAfter["tokens_streamed"]!.GetValue<long>() - meshBefore["tokens_streamed"]!.GetValue<long>();
    if (tokens > 0)
        Console.WriteLine($"gateway pipeline (detokenize + stop matching + JSON + SSE write/flush), measured in the server: {us / tokens:F1} µs/token over {tokens} tokens");
}

static async Task<JsonNode?> Mesh(HttpClient http)
{
    try { return JsonNode.Parse(await http.GetStringAsync("/v1/mesh"))!["gateway"]; }
    catch (Exception) { return null; }
}

sealed class Stats
{
    readonly Lock _lock = new();
    readonly List<double> _ttft = [], _itl = [];
    readonly Dictionary<int, int> _errors = [];
    long _tokens;
    int _requests;

    public void Add(List<double> times, int tokens)
    {
        lock (_lock)
        {
            _requests++;
            _tokens += tokens;
            if (times.Count > 0) _ttft.Add(times[0]);
            for (int i = 1; i < times.Count; i++) _itl.Add(times[i] - times[i - 1]);
        }
    }

    public void Error(int status)
    {
        lock (_lock) _errors[status] = _errors.GetValueOrDefault(status) + 1;
    }

    static double P(List<double> v, double q)
    {
        if (v.Count == 0) return double.NaN;
        var s = v.Order().ToArray();
        return s[Math.Min(s.Length - 1, (int)Math.Ceiling(q * s.Length) - 1)];
    }

    public void Report(string mode, int concurrency, double seconds, int maxTokens)
    {
        Console.WriteLine($"mode {mode}, {concurrency} concurrent streams, {seconds:F1} s, max_tokens {maxTokens}");
        Console.WriteLine($"requests: {_requests} completed ({_requests / seconds:F2} req/s), errors: {(_errors.Count == 0 ? "none" : string.Join(", ", _errors.Select(e => $"{e.Key}×{e.Value}")))}");
        Console.WriteLine($"output tokens: {_tokens} ({_tokens / seconds:F1} tokens/s)");
        Console.WriteLine($"time to first token: p50 {P(_ttft, 0.5):F1} ms, p99 {P(_ttft, 0.99):F1} ms");
        Console.WriteLine($"inter-token latency: p50 {P(_itl, 0.5):F2} ms, p99 {P(_itl, 0.99):F2} ms ({_itl.Count} gaps)");
    }
}

sealed class Args(Dictionary<string, string> values)
{
    public static Args Parse(string[] args)
    {
        var d = new Dictionary<string, string>();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected '{args[i]}'");
            d[args[i]] = args[i + 1];
        }
        if (args.Length % 2 != 0) throw new ArgumentException($"'{args[^1]}' needs a value");
        return new Args(d);
    }

    public string Get(string name, string fallback) => values.GetValueOrDefault(name, fallback);
    public string? GetOrNull(string name) => values.GetValueOrDefault(name);
}
