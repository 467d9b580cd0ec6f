using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Xunit.Abstractions;

namespace DeepSeekMesh.AppHost.Tests;

/// <summary>The AppHost as `dotnet run --project AppHost` starts it: real processes, the dashboard's orchestrator, no containers.</summary>
public sealed class AppHostTests(ITestOutputHelper output)
{
    static string[] Args(int expertSilos, string demoDirectory, int gatewayPort, int siloPortBase, int clientPortBase) =>
    [
        $"--Mesh:ExpertSilos={expertSilos}",
        $"--Mesh:GatewayPort={gatewayPort}",
        $"--Mesh:SiloPortBase={siloPortBase}",
        $"--Mesh:OrleansGatewayPortBase={clientPortBase}",
        $"--Mesh:DemoModelDirectory={demoDirectory}",
        "--Mesh:ClusterId=apphost-test",
    ];

    /// <summary>
    /// Aspire runs each project resource with `dotnet run --no-build --configuration X`, X being the AppHost
    /// assembly's AssemblyConfiguration (Aspire.Hosting's DcpExecutor): the AppHost names Release there,
    /// whatever it is built in, and builds the CLI in Release, so the mesh never serves unoptimized code.
    /// </summary>
    [Fact]
    public void The_mesh_runs_release_builds_whatever_the_apphost_is_built_in()
    {
        var configuration = typeof(Projects.AppHost).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .Cast<System.Reflection.AssemblyConfigurationAttribute>().Single().Configuration;
        Assert.Equal("Release", configuration);
        var cli = Path.GetDirectoryName(new Projects.DeepSeekMesh_Cli().ProjectPath)!;
        Assert.True(File.Exists(Path.Combine(cli, "bin", "Release", "net10.0", "dsmesh.dll")), "the AppHost's build put a Release dsmesh next to the CLI project");
    }

    [Fact]
    public async Task Starts_the_mesh_with_a_demo_model_and_completes_a_chat_through_the_gateway()
    {
        var clock = Stopwatch.StartNew();
        var root = Repo.TempDirectory("apphost");
        try
        {
            await StartAndChat(Path.Combine(root, "demo-tiny"), clock); // absent: the AppHost writes it first
        }
        finally
        {
            Repo.Remove(root);
        }
    }

    async Task StartAndChat(string demo, Stopwatch clock)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var ct = cts.Token;
        int gatewayPort = Ports.Free(), siloPorts = Ports.FreeRange(2), clientPorts = Ports.FreeRange(2);
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            Args(expertSilos: 1, demo, gatewayPort, siloPorts, clientPorts), ct);
        Assert.Equal(["demo-model", "expert-1", "frontend", "gateway"],
            builder.Resources.OfType<ProjectResource>().Select(r => r.Name).Order().ToArray());

        await using var app = await builder.BuildAsync(ct);
        await app.StartAsync(ct);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", ct);
        output.WriteLine($"gateway healthy after {clock.Elapsed.TotalSeconds:F1} s");
        Assert.True(File.Exists(Path.Combine(demo, "tokenizer.json")), "the demo model was written with the DeepSeek-V3 tokenizer");

        using var http = app.CreateHttpClient("gateway", "http");
        Assert.Equal(gatewayPort, http.BaseAddress!.Port);
        var ready = await http.GetFromJsonAsync<JsonObject>("/health/ready", ct);
        Assert.Equal(2, ready!["silos"]!.GetValue<int>()); // the frontend and one expert silo

        var models = await http.GetFromJsonAsync<JsonObject>("/v1/models", ct);
        var model = models!["data"]![0]!;
        Assert.Equal("demo-tiny", model["id"]!.GetValue<string>());
        Assert.True(model["random_weights"]!.GetValue<bool>());

        using var response = await http.PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "demo-tiny",
            messages = new[] { new { role = "user", content = "Hello from the AppHost test" } },
            max_tokens = 8,
            seed = 1,
        }, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        Assert.True(response.IsSuccessStatusCode, body);
        var completion = JsonNode.Parse(body)!;
        Assert.Equal("assistant", completion["choices"]![0]!["message"]!["role"]!.GetValue<string>());
        Assert.Equal(8, completion["usage"]!["completion_tokens"]!.GetValue<int>());

        // The gateway's Prometheus endpoint (Telemetry__Prometheus from the AppHost) shows the request's GenAI metrics.
        var metrics = await http.GetStringAsync("/metrics", ct);
        Assert.Contains("gen_ai_server_time_to_first_token_seconds_count", metrics);
        Assert.Contains("gen_ai_client_token_usage_sum", metrics);
        output.WriteLine($"chat completed after {clock.Elapsed.TotalSeconds:F1} s: {body}");
    }

    [Fact]
    public async Task Changing_the_expert_silo_count_adds_expert_silos_and_leaves_the_others_alone()
    {
        async Task<Dictionary<string, string>> ArgumentsOf(int experts)
        {
            var unused = Repo.TempDirectory("unused-demo");
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(Args(experts, unused, 8000, 11111, 30000));
            Repo.Remove(unused);
            var result = new Dictionary<string, string>();
            foreach (var resource in builder.Resources.OfType<ProjectResource>())
#pragma warning disable CS0618 // plain values only here: the simple resolver is enough
                result[resource.Name] = string.Join(' ', await resource.GetArgumentValuesAsync());
#pragma warning restore CS0618
            return result;
        }

        var two = await ArgumentsOf(2);
        var three = await ArgumentsOf(3);
        Assert.Equal(["expert-1", "expert-2", "expert-3"], three.Keys.Where(k => k.StartsWith("expert-")).Order().ToArray());
        foreach (var name in new[] { "frontend", "gateway", "expert-1", "expert-2" })
            Assert.Equal(two[name], three[name]);
        Assert.Contains("--role frontend", two["frontend"]);
        Assert.Contains("--role expert", three["expert-3"]);
        Assert.Contains("--silo-port 11114", three["expert-3"]);
        Assert.Contains("--primary 127.0.0.1:11111", three["expert-3"]);
        Assert.Contains("--port 8000", two["gateway"]);
    }
}
