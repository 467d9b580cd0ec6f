using System.CommandLine;
using DeepSeekMesh.Silo;
using System.Text.Json;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Cli.Commands;

/// <summary>
/// <c>dsmesh bench --model DIR [--batch 1,16] [--prompt-tokens 64] [--decode-tokens 32] [--weights f32|bf16]</c>:
/// prefill and decode throughput on random prompts, one JSON line per batch size.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var batches = new Option<string>("--batch") { Description = "batch sizes, comma-separated", DefaultValueFactory = _ => "1,16" };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "prompt length per sequence", DefaultValueFactory = _ => 64 };
        var decodeTokens = new Option<int>("--decode-tokens") { Description = "tokens generated per sequence", DefaultValueFactory = _ => 32 };
        var repeats = new Option<int>("--repeats") { Description = "measured runs per batch size (the best is reported)", DefaultValueFactory = _ => 3 };
        var compute = new ComputeOptions();
        var command = new Command("bench", "Measure prefill and decode tokens/s") { model, batches, promptTokens, decodeTokens, repeats };
        compute.AddTo(command);
        command.SetAction(parse =>
        {
            var options = compute.Read(parse);
            double bandwidth = MemoryBandwidth();
            Console.Out.WriteLine(JsonSerializer.Serialize(new { memory_bandwidth_gb_per_s = Math.Round(bandwidth, 2), threads = TorchSharp.torch.get_num_threads() }));
            using var transformer = CliOptions.Load(parse.GetValue(model)!, options);
            var c = transformer.Config;
            long activeBytes = ParameterCounts.ActivePerToken(c) * (options.WeightDtype == TorchSharp.torch.ScalarType.Float32 ? 4 : 2);
            using var engine = new OfflineEngine(transformer);
            var random = new Random(1234);
            int[] Prompt() => Enumerable.Range(0, parse.GetValue(promptTokens)).Select(_ => random.Next(2, c.VocabSize)).ToArray();
            var sampling = SamplingParams.Greedy with { MaxTokens = parse.GetValue(decodeTokens), IgnoreEos = true };
            engine.Generate([new EngineRequest(Prompt(), sampling with { MaxTokens = 4 })]); // warm-up
            foreach (var size in CliOptions.ParseTokens(parse.GetValue(batches)!))
            {
                GenerationTiming? best = null;
                for (int r = 0; r < Math.Max(1, parse.GetValue(repeats)); r++)
                {
                    var requests = Enumerable.Range(0, size).Select(_ => new EngineRequest(Prompt(), sampling)).ToArray();
                    var (_, timing) = engine.Generate(requests);
                    if (best is null || timing.DecodeTokensPerSecond > best.DecodeTokensPerSecond) best = timing;
                }
                var result = new
                {
                    batch = size,
                    weights = compute.WeightsName(parse),
                    compute = compute.ComputeName(parse),
                    device = options.Device.ToString(),
                    prompt_tokens = parse.GetValue(promptTokens),
                    prefill_tokens_per_s = Math.Round(size * parse.GetValue(promptTokens) / best!.PrefillSeconds, 1),
                    decode_tokens_per_s = Math.Round(best.DecodeTokensPerSecond, 2),
                    active_weight_bytes_per_token = activeBytes,
                    effective_gb_per_s = size == 1 ? Math.Round(activeBytes * best.DecodeTokensPerSecond / 1e9, 2) : (double?)null,
                    roofline_fraction = size == 1 ? Math.Round(activeBytes * best.DecodeTokensPerSecond / 1e9 / bandwidth, 3) : (double?)null,
                };
                Console.Out.WriteLine(JsonSerializer.Serialize(result));
            }
            return 0;
        });
        return command;
    }

    /// <summary>Read bandwidth of this machine now: the best of several sums over 512 MB (beyond any cache).</summary>
    static double MemoryBandwidth()
    {
        using var data = TorchSharp.torch.ones(128L << 20, TorchSharp.torch.ScalarType.Float32);
        double best = double.MaxValue;
        for (int i = 0; i < 6; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var sum = data.sum();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return (128L << 20) * 4 / best / 1e9;
    }
}
