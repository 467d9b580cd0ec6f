using DeepSeekMesh.Contracts;
using DeepSeekMesh.Mesh.Bench;
using DeepSeekMesh.Model;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Model.Presets;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Silo;

// Expert traffic and decode step latency, mesh (one frontend + N expert silos in this process,
// dispatching by the placement plan) vs one process, on random-weight preset models. A case is
// PRESET[:WIRE[:EXPERT_SILOS]] (default f32, 2 silos). Numbers, not assertions:
//   dotnet run -c Release --project bench/DeepSeekMesh.Mesh.Bench [-- tiny:f32 v3-topology:f32:2 v3-topology:f32:4 v3-topology:bf16]
var cases = args.Length > 0 ? args : ["tiny:f32", "v3-topology:f32", "v3-topology:bf16"];
const int decode = 32;
foreach (var spec in cases)
{
    var parts = spec.Split(':');
    string preset = parts[0];
    var wire = parts.Length > 1 && parts[1].Equals("bf16", StringComparison.OrdinalIgnoreCase) ? RowDtype.BF16 : RowDtype.F32;
    int expertSilos = parts.Length > 2 ? int.Parse(parts[2]) : 2;
    var dir = Path.Combine(Path.GetTempPath(), $"dsmesh-bench-{preset}");
    if (!File.Exists(Path.Combine(dir, "config.json"))) ModelPreset.WriteDemo(dir, preset, seed: 5);
    var config = ModelConfig.Load(dir);
    int moe = Enumerable.Range(0, config.NumHiddenLayers).Count(config.IsMoeLayer);
    foreach (int batch in new[] { 1, 8 })
    {
        var requests = Enumerable.Range(0, batch)
            .Select(i => new EngineRequest(Enumerable.Range(10 + i, 8).ToArray(), SamplingParams.Greedy with { MaxTokens = decode + 1, IgnoreEos = true }))
            .ToArray();
        GenerationTiming local;
        using (var model = Transformer.Load(dir))
        using (var engine = new OfflineEngine(model))
        {
            engine.Generate(requests); // warm-up
            local = engine.Generate(requests).Timing;
        }

        await using var mesh = await BenchCluster.StartAsync(new MeshSiloOptions { ModelDirectory = dir, ModelId = "bench", WireDtype = wire }, expertSilos);
        var frontend = mesh.Frontend;
        OfflineEngine.Generate(frontend.Engine, requests); // warm-up: expert activations
        var before = frontend.ExpertTraffic!;
        var (steps0, calls0, sent0, received0, rows0) = (before.LayerSteps, before.Calls, before.BytesSent, before.BytesReceived, before.Rows);
        var (forwarded0, busy0, wait0, start0, route0) = (mesh.ExpertActivity.Sum(a => a.ForwardedRows), mesh.ExpertActivity.Sum(a => a.BatchTime.TotalMilliseconds), before.WaitTime.TotalMilliseconds, before.StartTime.TotalMilliseconds, before.RouteTime.TotalMilliseconds);
        var timing = OfflineEngine.Generate(frontend.Engine, requests).Timing;
        var after = frontend.ExpertTraffic!;
        double steps = (after.LayerSteps - steps0) / (double)moe; // forward passes (prefill and decode)
        Console.WriteLine($"{preset} wire={wire} expert-silos={expertSilos} batch={batch}: {moe} MoE layers; per forward pass (prefill and decode averaged) " +
            $"{(after.Calls - calls0) / steps:F0} expert calls, {(after.Rows - rows0) / steps:F0} rows, " +
            $"{(after.BytesSent - sent0 + after.BytesReceived - received0) / steps / 1024:F1} KiB both ways; decode step " +
            $"{1000 * timing.DecodeSeconds / (timing.DecodeTokens / (double)batch):F2} ms mesh vs " +
            $"{1000 * local.DecodeSeconds / (local.DecodeTokens / (double)batch):F2} ms one process; " +
            $"expert silos computed batches for {mesh.ExpertActivity.Sum(a => a.BatchTime.TotalMilliseconds) - busy0:F0} ms (summed), the engine waited {after.WaitTime.TotalMilliseconds - wait0:F0} ms, sent for {after.StartTime.TotalMilliseconds - start0:F0} ms and routed for {after.RouteTime.TotalMilliseconds - route0:F0} ms " +
            $"(of {timing.DecodeSeconds * 1000 + timing.PrefillSeconds * 1000:F0} ms), " +
            $"{mesh.ExpertActivity.Sum(a => a.ForwardedRows) - forwarded0} rows took an extra hop");
    }
}
