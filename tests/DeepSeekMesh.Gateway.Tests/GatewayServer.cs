using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekMesh.Cli.Hosting;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Model.Presets;
using DeepSeekMesh.Silo;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Mesh;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>A random-weight "tiny" preset model with the real DeepSeek-V3 tokenizer, written once per test run (as `dsmesh init-model --preset tiny --tokenizer …` writes it).</summary>
public static class TinyModel
{
    static readonly Lazy<string> Dir = new(() => ModelPreset.WriteDemo(
        Scratch.Named("gateway-tests-tiny"), "tiny", seed: 11, RepoPaths.TokenizerDirectory));

    public static string Directory => Dir.Value;
}

/// <summary>One `dsmesh serve`-equivalent host (gateway + one silo of role all) on real Kestrel, loopback, free ports.</summary>
public abstract class GatewayServer : IAsyncLifetime
{
    public WebApplication App { get; private set; } = null!;
    public Uri BaseAddress { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string ModelId => App.Services.GetRequiredService<ServedModel>().Id;

    protected virtual void Configure(GatewayOptions options) { }
    protected virtual string ModelDirectory => TinyModel.Directory;
    protected virtual EngineOptions Engine => new();
    public virtual string? Key => null;

    public async Task InitializeAsync()
    {
        App = ServeHost.Build(new ServeSettings
        {
            Gateway = new GatewaySettings
            {
                ModelDirectory = ModelDirectory,
                Port = 0,
                Configure = Configure,
                LogLevel = LogLevel.Warning,
            },
            Silo = new MeshSiloOptions { Engine = Engine },
            SiloPort = FreePort(),
            SiloGatewayPort = FreePort(),
        });
        await App.StartAsync();
        BaseAddress = App.HttpAddress();
        Http = Client(Key);
    }

    public HttpClient Client(string? key)
    {
        var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (key is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    public EngineStats EngineStats => App.Services.GetRequiredService<MeshFrontend>().Engine.Stats;

    /// <summary>Waits until the engine runs nothing and every KV cache block is free again.</summary>
    public async Task<EngineStats> WaitForIdleEngine(TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var stats = EngineStats;
            if (stats.Running == 0 && stats.Waiting == 0 && stats.CacheBlocksUsed == 0) return stats;
            if (DateTime.UtcNow > until) return stats;
            await Task.Delay(50);
        }
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }

    static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static StringContent JsonBody(string json) => new(json, Encoding.UTF8, "application/json");

    public async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> PostAsync(string path, string json, HttpClient? http = null)
    {
        var response = await (http ?? Http).PostAsync(path, JsonBody(json));
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        try { body = JsonNode.Parse(text); } catch (JsonException) { }
        return (response.StatusCode, body, response);
    }
}

public sealed class OpenServer : GatewayServer { }

/// <summary>API keys, request and token rate limits, and an engine that admits one sequence and queues one more (to saturate it).</summary>
public sealed class SecuredServer : GatewayServer
{
    public const string Key1 = "sk-test-one", Key2 = "sk-test-two", Key3 = "sk-test-three";
    public const int RequestsPerMinute = 6, TokensPerMinute = 1500;

    protected override void Configure(GatewayOptions options)
    {
        options.ApiKeys.AddRange([Key1, Key2, Key3]);
        options.RequestsPerMinute = RequestsPerMinute;
        options.TokensPerMinute = TokensPerMinute;
        options.OverloadedRetryAfterSeconds = 2;
    }

    protected override EngineOptions Engine => new() { MaxRunningSequences = 1, MaxWaitingRequests = 1 };
}
