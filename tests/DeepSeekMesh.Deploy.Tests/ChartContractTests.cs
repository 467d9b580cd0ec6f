using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace DeepSeekMesh.Deploy.Tests;

/// <summary>
/// The chart and the binary cannot drift apart: renders helm/deepseekmesh (helm installed by
/// deploy/check-chart.sh), takes the container args and env of the gateway, the frontend and an
/// expert pool exactly as rendered, and runs them as local processes: each "pod" gets its own
/// loopback address as POD_IP, the model path becomes a tiny random model, the bundled Redis
/// Service becomes a local redis-server. They must form one cluster and answer a chat completion
/// through the gateway, authenticated with the API key from the chart's Secret.
/// </summary>
public sealed class ChartContractTests(ITestOutputHelper output)
{
    const string ApiKey = "sk-contract-test";
    const string Namespace = "mesh"; // check-chart.sh --render-json renders release "dsm" into "mesh"

    [Fact]
    public async Task RenderedPodsFormAClusterAndServeAChatCompletion()
    {
        var clock = Stopwatch.StartNew();
        using var work = new TempDir();
        int httpPort = Repo.FreePort(IPAddress.Loopback);
        var manifests = Repo.RenderChart("--set", $"gateway.apiKeys={{{ApiKey}}}", "--set", $"gateway.port={httpPort}");
        output.WriteLine($"rendered {manifests.Count} manifests ({clock.Elapsed.TotalSeconds:F1} s)");

        var model = Path.Combine(work.Path, "model");
        Repo.Dsmesh(TimeSpan.FromMinutes(2), "init-model", "--preset", "tiny", "--out", model,
            "--tokenizer", RepoPaths.TokenizerDirectory);
        output.WriteLine($"tiny model written ({clock.Elapsed.TotalSeconds:F1} s)");

        await using var processes = new Processes(output);
        int redisPort = Repo.FreePort(IPAddress.Loopback);
        processes.Start("redis", Repo.RedisServer(), ["--bind", "127.0.0.1", "--port", redisPort.ToString(), "--save", "", "--appendonly", "no"], new());

        var gateway = Pod.From(manifests, "gateway");
        var frontend = Pod.From(manifests, "frontend");
        var expert = Pod.From(manifests, "expert");
        Assert.Equal("dsm-deepseekmesh-expert-cpu", expert.Name);

        // What the cluster would provide, in local terms.
        var redisService = $"dsm-deepseekmesh-redis:6379";
        var local = new Dictionary<string, string> { [redisService] = $"127.0.0.1:{redisPort}" };
        string ModelArg(Pod pod) => pod.ArgValue("--model") ?? throw new InvalidOperationException($"{pod.Name}: no --model");

        // Distinct loopback addresses stand for pod IPs, so every silo keeps the chart's ports.
        var frontendRun = frontend.Resolve(manifests, podIp: "127.0.0.2", Namespace, local, ModelArg(frontend), model);
        var expertRun = expert.Resolve(manifests, podIp: "127.0.0.3", Namespace, local, ModelArg(expert), model);
        var gatewayRun = gateway.Resolve(manifests, podIp: "127.0.0.4", Namespace, local, ModelArg(gateway), model);
        // The gateway listens on all addresses in the pod (--host 0.0.0.0); here: its loopback "pod IP".
        gatewayRun = gatewayRun with { Args = gatewayRun.Args.Select(a => a == "0.0.0.0" ? "127.0.0.4" : a).ToArray() };
        Assert.Equal(frontend.ArgValue("--silo-port"), expert.ArgValue("--silo-port"));
        Assert.Equal(ApiKey, gatewayRun.Env["Gateway__ApiKeys__0"]);

        processes.StartDsmesh("frontend", frontendRun);
        processes.StartDsmesh("expert", expertRun);
        processes.StartDsmesh("gateway", gatewayRun);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.4:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };
        // The gateway's readiness probe path, as rendered.
        var readiness = gateway.Container["readinessProbe"]!["httpGet"]!["path"]!.GetValue<string>();
        await processes.WaitAsync(async () => (await http.GetAsync(readiness)).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(120), $"gateway {readiness}");
        output.WriteLine($"gateway ready ({clock.Elapsed.TotalSeconds:F1} s)");

        // Both silos joined through the chart's Redis membership.
        JsonNode? mesh = null;
        await processes.WaitAsync(async () =>
        {
            mesh = JsonNode.Parse(await Authorized(http, HttpMethod.Get, "/v1/mesh").ReadAsStringAsync());
            return mesh!["silos"]!.AsArray().Count(s => s!["status"]!.GetValue<string>() == "Active") == 2;
        }, TimeSpan.FromSeconds(60), "two active silos");

        // The API key from the chart's Secret is required.
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/v1/models")).StatusCode);
        var models = JsonNode.Parse(await Authorized(http, HttpMethod.Get, "/v1/models").ReadAsStringAsync())!;
        var modelId = models["data"]![0]!["id"]!.GetValue<string>();

        var chat = new JsonObject
        {
            ["model"] = modelId,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "Hello from Kubernetes" }),
            ["max_tokens"] = 6,
            ["temperature"] = 0,
        };
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(chat) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"chat completion: {(int)response.StatusCode} {body}\n{processes.Logs()}");
        var completion = JsonNode.Parse(body)!;
        Assert.Equal("chat.completion", completion["object"]!.GetValue<string>());
        Assert.True(completion["usage"]!["completion_tokens"]!.GetValue<int>() > 0, body);
        output.WriteLine($"chat completion: {completion["choices"]![0]!["message"]!["content"]} ({clock.Elapsed.TotalSeconds:F1} s)");

        // Routed experts ran on the expert pool's silo (its pod IP), attention on the frontend's.
        mesh = JsonNode.Parse(await Authorized(http, HttpMethod.Get, "/v1/mesh").ReadAsStringAsync())!;
        var bySilo = mesh["silos"]!.AsArray().ToDictionary(s => s!["address"]!.GetValue<string>().Split(':')[0], s => s!);
        Assert.True(bySilo["127.0.0.3"]["experts"]!.AsArray().Count > 0, mesh.ToJsonString());
        Assert.Empty(bySilo["127.0.0.2"]["experts"]!.AsArray());
        output.WriteLine($"done in {clock.Elapsed.TotalSeconds:F1} s");
    }

    static HttpContent Authorized(HttpClient http, HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        var response = http.Send(request);
        response.EnsureSuccessStatusCode();
        return response.Content;
    }
}

/// <summary>One rendered Deployment's container: its args and env as the chart wrote them.</summary>
sealed record Pod(string Name, JsonObject Container)
{
    public string[] Args => Container["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToArray();

    public string? ArgValue(string option)
    {
        var args = Args;
        int i = Array.IndexOf(args, option);
        return i < 0 || i + 1 >= args.Length ? null : args[i + 1];
    }

    public static Pod From(IReadOnlyList<JsonNode> manifests, string component)
    {
        var deployment = manifests.Single(m => m["kind"]!.GetValue<string>() == "Deployment"
            && m["spec"]!["template"]!["metadata"]!["labels"]!["app.kubernetes.io/component"]!.GetValue<string>() == component
            && (component != "expert" || m["metadata"]!["name"]!.GetValue<string>().EndsWith("-expert-cpu", StringComparison.Ordinal)));
        var containers = deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Single(containers);
        return new Pod(deployment["metadata"]!["name"]!.GetValue<string>(), containers[0]!.AsObject());
    }

    /// <summary>
    /// The process Kubernetes would start: env values resolved as the kubelet does (fieldRef from the
    /// pod, secretKeyRef from the rendered Secret), then $(VAR) in args expanded from that env;
    /// cluster addresses mapped to local ones and the model directory to <paramref name="localModel"/>.
    /// </summary>
    public LocalRun Resolve(IReadOnlyList<JsonNode> manifests, string podIp, string ns, IReadOnlyDictionary<string, string> local, string modelPath, string localModel)
    {
        string Localize(string value)
        {
            foreach (var (from, to) in local) value = value.Replace(from, to, StringComparison.Ordinal);
            return value;
        }
        var env = new Dictionary<string, string>();
        foreach (var e in Container["env"]?.AsArray() ?? [])
        {
            var name = e!["name"]!.GetValue<string>();
            if (e["value"] is { } v) { env[name] = Localize(v.GetValue<string>()); continue; }
            var from = e["valueFrom"]!;
            if (from["fieldRef"] is { } field)
                env[name] = field["fieldPath"]!.GetValue<string>() switch
                {
                    "metadata.name" => $"{Name}-0",
                    "metadata.namespace" => ns,
                    "status.podIP" => podIp,
                    var p => throw new InvalidOperationException($"{Name}: env {name} from an unexpected field {p}"),
                };
            else if (from["secretKeyRef"] is { } secretRef)
            {
                var secret = manifests.Single(m => m["kind"]!.GetValue<string>() == "Secret" && m["metadata"]!["name"]!.GetValue<string>() == secretRef["name"]!.GetValue<string>());
                env[name] = Localize(secret["stringData"]![secretRef["key"]!.GetValue<string>()]!.GetValue<string>());
            }
            else throw new InvalidOperationException($"{Name}: env {name} has a source the test does not know");
        }
        var args = Args.Select(a =>
        {
            foreach (var (k, v) in env) a = a.Replace($"$({k})", v, StringComparison.Ordinal);
            Assert.DoesNotContain("$(", a);
            return a == modelPath ? localModel : Localize(a);
        }).ToArray();
        return new LocalRun(args, env);
    }
}

sealed record LocalRun(string[] Args, Dictionary<string, string> Env);

/// <summary>Child processes of one test, killed (by their own handles) at the end.</summary>
sealed class Processes(ITestOutputHelper output) : IAsyncDisposable
{
    readonly List<(string Name, Process Process, StringBuilder Log)> _running = new();

    public void Start(string name, string file, IEnumerable<string> args, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        // Not in a pod: keep the silos from taking this for a Kubernetes cluster.
        info.Environment.Remove("KUBERNETES_SERVICE_HOST");
        info.Environment.Remove("KUBERNETES_SERVICE_PORT");
        foreach (var (k, v) in env) info.Environment[k] = v;
        var log = new StringBuilder();
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _running.Add((name, process, log));
        output.WriteLine($"started {name}: {file} {string.Join(' ', args)}");
    }

    public void StartDsmesh(string name, LocalRun run) =>
        Start(name, "dotnet", [Repo.DsmeshDll, .. run.Args], run.Env);

    public async Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (var (name, process, _) in _running)
                if (process.HasExited) throw new InvalidOperationException($"{name} exited ({process.ExitCode}) while waiting for {what}\n{Logs()}");
            try { if (await condition()) return; }
            catch (Exception) when (clock.Elapsed < timeout) { }
            if (clock.Elapsed > timeout) throw new TimeoutException($"{what}: not within {timeout}\n{Logs()}");
            await Task.Delay(500);
        }
    }

    public string Logs() => string.Join("\n", _running.Select(r => { lock (r.Log) return $"---- {r.Name}\n{Tail(r.Log.ToString())}"; }));

    static string Tail(string text) => text.Length > 6000 ? text[^6000..] : text;

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, process, _) in Enumerable.Reverse(_running))
        {
            try { if (!process.HasExited) process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        }
        foreach (var (_, process, _) in _running)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await process.WaitForExitAsync(cts.Token); } catch (OperationCanceledException) { }
            process.Dispose();
        }
    }
}

sealed class TempDir : IDisposable
{
    public string Path { get; } = Scratch.NewDirectory("deploy-");
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
