using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Presets;
using Xunit.Abstractions;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>
/// Expert traffic and decode step latency, mesh vs one process. Runs only with DSMESH_BENCH=1
/// (numbers, not assertions): <c>DSMESH_BENCH=1 dotnet test tests/DeepSeekMesh.Silo.Tests -c Release --filter MeshBenchmark</c>.
/// </summary>
public sealed class MeshBenchmark(ITestOutputHelper output)
{
    [Theory]
    [InlineData("tiny", RowDtype.F32)]
    [InlineData("v3-topology", RowDtype.F32)]
    [InlineData("v3-topology", RowDtype.BF16)]
    public async Task DecodeStepTrafficAndLatency(string preset, RowDtype wire)
    {
        if (Environment.GetEnvironmentVariable("DSMESH_BENCH") is null) return;
        var dir = Path.Combine(Path.GetTempPath(), $"dsmesh-bench-{preset}");
        if (!File.Exists(Path.Combine(dir, "config.json"))) RandomCheckpoint.Write(ModelPreset.Config(preset), dir, seed: 5, CheckpointDtype.Bf16);
        const int decode = 32;
        foreach (int batch in new[] { 1, 8 })
        {
            var requests = Enumerable.Range(0, batch)
                .Select(i => new GenerationRequest(Enumerable.Range(10 + i, 8).ToArray(), Runs.Greedy(decode + 1))).ToArray();
            GenerationTiming local;
            using (var model = Model.Transformer.Load(dir))
            {
                using var engine = new OfflineEngine(model);
                engine.Generate(requests); // warm-up
                local = engine.Generate(requests).Timing;
            }
            await using var mesh = await MeshCluster.StartAsync(dir, configure: o => o with { WireDtype = wire });
            await Runs.ThroughGrains(mesh, requests, options: mesh.Options with { WireDtype = wire }); // warm-up: activations
            var (timing, traffic) = await Runs.OnDedicatedThread(() =>
            {
                var (model, experts) = Mesh.MeshFrontend.LoadModel(dir, mesh.FrontendGrains, mesh.Options with { WireDtype = wire });
                using (model)
                {
                    using var generator = new OfflineEngine(model);
                    generator.Generate(requests);
                    var before = (experts.Stats.LayerSteps, experts.Stats.Calls, experts.Stats.BytesSent, experts.Stats.BytesReceived, experts.Stats.Rows);
                    var t = generator.Generate(requests).Timing;
                    var s = experts.Stats;
                    return (t, (Steps: s.LayerSteps - before.LayerSteps, Calls: s.Calls - before.Calls, Sent: s.BytesSent - before.BytesSent,
                        Received: s.BytesReceived - before.BytesReceived, Rows: s.Rows - before.Rows));
                }
            });
            var config = Model.Config.ModelConfig.Load(dir);
            int moe = Enumerable.Range(0, config.NumHiddenLayers).Count(config.IsMoeLayer);
            double steps = traffic.Steps / (double)moe; // forward passes (prefill + decode)
            output.WriteLine($"{preset} wire={wire} batch={batch}: {moe} MoE layers; per forward pass (prefill and decode averaged) {traffic.Calls / steps:F0} expert calls, " +
                $"{traffic.Rows / steps:F0} rows, {(traffic.Sent + traffic.Received) / steps / 1024:F1} KiB both ways; decode step " +
                $"{1000 * timing.DecodeSeconds / (timing.DecodeTokens / (double)batch):F2} ms mesh vs {1000 * local.DecodeSeconds / (local.DecodeTokens / (double)batch):F2} ms one process");
        }
    }
}
