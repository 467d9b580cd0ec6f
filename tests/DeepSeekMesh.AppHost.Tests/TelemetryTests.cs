using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using DeepSeekMesh.Cli.Hosting;
using DeepSeekMesh.Gateway;
using DeepSeekMesh.ServiceDefaults;
using DeepSeekMesh.Silo;
using DeepSeekMesh.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using N = DeepSeekMesh.ServiceDefaults.MeshMetricNames;

namespace DeepSeekMesh.AppHost.Tests;

/// <summary>One recorded measurement of an instrument of the DeepSeekMesh meter.</summary>
public sealed record Recorded(string Instrument, string? Unit, string Kind, double Value, IReadOnlyDictionary<string, object?> Tags);

/// <summary>
/// `dsmesh serve` in this process (gateway + one silo of role all, so frontend and expert metrics
/// alike), with a <see cref="MeterListener"/> on the DeepSeekMesh meter and an <see cref="ActivityListener"/>
/// on every source, as an OpenTelemetry SDK would subscribe.
/// </summary>
public sealed class InProcessMesh : IAsyncLifetime
{
    readonly MeterListener _meters = new();
    readonly ActivityListener _activities;
    public ConcurrentQueue<Recorded> Measurements { get; } = new();
    public ConcurrentQueue<Activity> Activities { get; } = new();
    public WebApplication App { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public string ModelId { get; private set; } = "";

    public InProcessMesh()
    {
        _meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == Telemetry.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _meters.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _activities = new ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = Activities.Enqueue,
        };
    }

    void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var kind = instrument.GetType().Name; // Histogram`1, ObservableCounter`1, ...
        Measurements.Enqueue(new Recorded(instrument.Name, instrument.Unit, kind[..kind.IndexOf('`')], value,
            tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
    }

    public async Task InitializeAsync()
    {
        _meters.Start();
        ActivitySource.AddActivityListener(_activities);
        MeshMetrics.LoadPollPeriod = TimeSpan.FromMilliseconds(200);
        App = ServeHost.Build(new ServeSettings
        {
            Gateway = new GatewaySettings
            {
                ModelDirectory = DemoModelFiles.Directory,
                Port = 0,
                LogLevel = LogLevel.Warning,
            },
            Silo = new MeshSiloOptions { LoadReportPeriod = TimeSpan.FromMilliseconds(100) },
            SiloPort = Ports.Free(),
            SiloGatewayPort = 0,
        });
        await App.StartAsync();
        Http = new HttpClient { BaseAddress = App.HttpAddress(), Timeout = TimeSpan.FromSeconds(60) };
        ModelId = Path.GetFileName(DemoModelFiles.Directory);
    }

    /// <summary>Polls observable instruments now (an exporter's collection does the same).</summary>
    public void Collect() => _meters.RecordObservableInstruments();

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await App.DisposeAsync();
        _meters.Dispose();
        _activities.Dispose();
        Repo.Remove(DemoModelFiles.Directory);
    }
}

public sealed class TelemetryTests(InProcessMesh mesh) : IClassFixture<InProcessMesh>
{
    async Task<JsonNode> Post(string path, object body)
    {
        using var response = await mesh.Http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!;
    }

    Task<JsonNode> Chat(string content, int maxTokens) => Post("/v1/chat/completions", new
    {
        model = mesh.ModelId,
        messages = new[] { new { role = "user", content } },
        max_tokens = maxTokens,
        seed = 3,
    });

    Recorded[] Of(string name) => mesh.Measurements.Where(m => m.Instrument == name).ToArray();

    static void AssertInstrument(Recorded[] recorded, string name, string unit, string kind)
    {
        Assert.True(recorded.Length > 0, $"{name}: nothing recorded");
        Assert.All(recorded, r => Assert.Equal((unit, kind), (r.Unit, r.Kind)));
    }

    [Fact]
    public async Task GenAI_server_metrics_follow_the_semantic_conventions()
    {
        var prompt = $"GenAI metrics {Guid.NewGuid()}";
        var chat = await Chat(prompt, maxTokens: 6);
        int input = chat["usage"]!["prompt_tokens"]!.GetValue<int>(), output = chat["usage"]!["completion_tokens"]!.GetValue<int>();
        await Post("/v1/completions", new { model = mesh.ModelId, prompt = "Once upon a time", max_tokens = 3 });

        var duration = Of(GenAiServerMetrics.RequestDurationName);
        AssertInstrument(duration, "gen_ai.server.request.duration", "s", "Histogram");
        AssertInstrument(Of(GenAiServerMetrics.TimeToFirstTokenName), "gen_ai.server.time_to_first_token", "s", "Histogram");
        AssertInstrument(Of(GenAiServerMetrics.TimePerOutputTokenName), "gen_ai.server.time_per_output_token", "s", "Histogram");
        var usage = Of(GenAiServerMetrics.TokenUsageName);
        AssertInstrument(usage, "gen_ai.client.token.usage", "{token}", "Histogram");

        Assert.All(duration, d =>
        {
            Assert.Equal("deepseekmesh", d.Tags["gen_ai.provider.name"]);
            Assert.Equal(mesh.ModelId, d.Tags["gen_ai.request.model"]);
            Assert.Equal(mesh.ModelId, d.Tags["gen_ai.response.model"]);
            Assert.InRange(d.Value, 1e-6, 60);
            Assert.False(d.Tags.ContainsKey("error.type"));
        });
        Assert.Contains(duration, d => (string?)d.Tags["gen_ai.operation.name"] == "chat");
        Assert.Contains(duration, d => (string?)d.Tags["gen_ai.operation.name"] == "text_completion");
        // The chat's usage: input = its prompt tokens, output = its completion tokens, as the response reported.
        Assert.Contains(usage, u => (string?)u.Tags["gen_ai.token.type"] == "input" && u.Value == input && (string?)u.Tags["gen_ai.operation.name"] == "chat");
        Assert.Contains(usage, u => (string?)u.Tags["gen_ai.token.type"] == "output" && u.Value == output && (string?)u.Tags["gen_ai.operation.name"] == "chat");
        Assert.All(Of(GenAiServerMetrics.TimeToFirstTokenName).Concat(Of(GenAiServerMetrics.TimePerOutputTokenName)),
            t => Assert.InRange(t.Value, 0, 60));
    }

    [Fact]
    public async Task Mesh_metrics_report_engine_expert_traffic_and_per_expert_load()
    {
        // The same 60-odd-token prompt twice: the second reads its full KV blocks from the prefix cache.
        string repeated = "mesh metrics " + string.Join(' ', Enumerable.Range(0, 40).Select(i => $"w{i}"));
        await Chat(repeated, maxTokens: 4);
        await Chat(repeated, maxTokens: 1);
        // Routers report every 100 ms, the metrics poll the stats grain every 200 ms: wait for the per-expert load.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            mesh.Collect();
            if (Of(N.ExpertLoad).Any(m => m.Value > 0) || DateTime.UtcNow > deadline) break;
            await Task.Delay(100);
        }

        var expected = new (string Name, string Unit, string Kind)[]
        {
            (N.SequencesRunning, "{sequence}", "ObservableUpDownCounter"),
            (N.SequencesWaiting, "{sequence}", "ObservableUpDownCounter"),
            (N.KvCacheBlocksUsed, "{block}", "ObservableUpDownCounter"),
            (N.KvCacheBlocksLimit, "{block}", "ObservableUpDownCounter"),
            (N.KvCacheUtilization, "1", "ObservableGauge"),
            (N.EngineSteps, "{step}", "ObservableCounter"),
            (N.EngineTokens, "{token}", "ObservableCounter"),
            (N.PrefixCacheQueries, "{token}", "ObservableCounter"),
            (N.PrefixCacheHits, "{token}", "ObservableCounter"),
            (N.ExpertCalls, "{call}", "ObservableCounter"),
            (N.ExpertRows, "{row}", "ObservableCounter"),
            (N.ExpertRowsPerCall, "{row}", "ObservableGauge"),
            (N.ExpertRetries, "{retry}", "ObservableCounter"),
            (N.ExpertWaitTime, "s", "ObservableCounter"),
            (N.ExpertNetworkIo, "By", "ObservableCounter"),
            (N.RoutedTokens, "{token}", "ObservableCounter"),
            (N.ExpertLoad, "{token}", "ObservableCounter"),
            (N.ExpertLoadImbalance, "1", "ObservableGauge"),
            (N.ExpertServedCalls, "{call}", "ObservableCounter"),
            (N.ExpertServedRows, "{row}", "ObservableCounter"),
            (N.ExpertActivations, "{activation}", "ObservableUpDownCounter"),
        };
        foreach (var (name, unit, kind) in expected)
            AssertInstrument(Of(name), name, unit, kind);

        double Last(string name) => Of(name).Last().Value;
        Assert.True(Last(N.ExpertCalls) > 0);
        Assert.True(Last(N.ExpertRows) >= Last(N.ExpertCalls));
        Assert.True(Last(N.ExpertRowsPerCall) >= 1);
        Assert.True(Last(N.EngineTokens) >= 4);
        Assert.True(Last(N.PrefixCacheQueries) > 0);
        Assert.InRange(Last(N.PrefixCacheHits), 16, Last(N.PrefixCacheQueries));
        Assert.True(Last(N.KvCacheBlocksLimit) > 0);
        Assert.True(Last(N.ExpertServedCalls) > 0); // role all: this silo served them too
        var load = Of(N.ExpertLoad).Where(m => m.Value > 0).ToArray();
        Assert.NotEmpty(load);
        Assert.All(load, m => { Assert.IsType<int>(m.Tags["dsmesh.layer"]); Assert.IsType<int>(m.Tags["dsmesh.expert"]); });
        Assert.All(Of(N.ExpertLoadImbalance), m => Assert.True(m.Value >= 1, $"imbalance {m.Value}"));
    }

    [Fact]
    public async Task A_request_trace_runs_from_the_gateway_through_the_completion_grain_to_the_expert_silos()
    {
        await Chat($"trace {Guid.NewGuid()}", maxTokens: 2);
        await Task.Delay(500); // let the server activities stop
        var all = mesh.Activities.ToArray();
        var request = all.LastOrDefault(a => a.Source.Name == "Microsoft.AspNetCore" && a.Kind == ActivityKind.Server
            && (a.GetTagItem("url.path") as string) == "/v1/chat/completions");
        Assert.NotNull(request);
        var trace = all.Where(a => a.TraceId == request.TraceId).ToArray();
        var names = string.Join(", ", trace.Select(a => $"{a.Source.Name}:{a.DisplayName}").Distinct());
        Assert.True(trace.Any(a => a.Source.Name == Telemetry.OrleansApplicationSource && a.DisplayName.Contains("CompletionGrain")), names);
        Assert.True(trace.Any(a => a.Source.Name == "DeepSeekMesh.Engine" && a.DisplayName == "engine.step"), names);
        // Expert rows travel as one batch per expert silo (MeshSiloGrain.Forward); before the silo follows a plan, or on a
        // replica's first use, as expert grain calls.
        Assert.True(trace.Any(a => a.Source.Name == Telemetry.OrleansApplicationSource
            && (a.DisplayName.Contains("MeshSiloGrain") || a.DisplayName.Contains("ExpertGrain"))), names);
    }
}
