using System.CommandLine;
using DeepSeekMesh.Silo;
using System.Text.Json;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Cli.Commands;

/// <summary>
/// <c>dsmesh bench --model DIR [--batch 1,16] [--prompt-tokens 64] [--decode-tokens 32] [--weights f32|bf16]</c>:
/// prefill and decode throughput on random prompts, one JSON line per batch size. With
/// <c>--shared-prefix N</c>: time to first token of two requests that share an N-token prefix, with
/// prefix caching on (the second reuses the first's blocks), and the second's greedy tokens against a
/// run with the cache off.
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
        var sharedPrefix = new Option<int>("--shared-prefix")
        {
            Description = "instead: time to first token of two requests sharing this many prompt tokens (prefix cache on), and the second's greedy tokens with the cache off",
        };
        var compute = new ComputeOptions();
        var command = new Command("bench", "Measure prefill and decode tokens/s") { model, batches, promptTokens, decodeTokens, repeats, sharedPrefix };
        compute.AddTo(command);
        command.SetAction(parse =>
        {
            var options = compute.Read(parse);
            double bandwidth = MemoryBandwidth(options.Device);
            Console.Out.WriteLine(JsonSerializer.Serialize(new { memory_bandwidth_gb_per_s = Math.Round(bandwidth, 2), bandwidth_of = options.Device.ToString(), threads = TorchSharp.torch.get_num_threads() }));
            using var transformer = CliOptions.Load(parse.GetValue(model)!, options);
            var c = transformer.Config;
            long activeBytes = ActiveBytes(c, options);
            if (parse.GetValue(sharedPrefix) is > 0 and var shared)
            {
                Console.Out.WriteLine(JsonSerializer.Serialize(PrefixCache(transformer, shared, parse.GetValue(promptTokens), parse.GetValue(decodeTokens))));
                return 0;
            }
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

    /// <summary>
    /// Two requests of <paramref name="shared"/> common tokens plus <paramref name="rest"/> of their own, one after the
    /// other on one engine with prefix caching: each one's time to first token; then the second alone on an engine
    /// without it, whose greedy tokens must be the same.
    /// </summary>
    static object PrefixCache(DeepSeekMesh.Model.Transformer transformer, int shared, int rest, int decode)
    {
        var random = new Random(1234);
        int[] Tokens(int n) => Enumerable.Range(0, n).Select(_ => random.Next(2, transformer.Config.VocabSize)).ToArray();
        var prefix = Tokens(shared);
        int[] first = [.. prefix, .. Tokens(rest)], second = [.. prefix, .. Tokens(rest)];
        var sampling = SamplingParams.Greedy with { MaxTokens = Math.Max(decode, 1), IgnoreEos = true };
        var options = new EngineOptions { CacheBlocks = 4 * ((shared + rest + decode) / 16 + 2) };

        static (double Ttft, int Cached, int[] Tokens) Run(InferenceEngine engine, int[] prompt, SamplingParams sampling)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            double ttft = 0;
            int cached = 0;
            var tokens = new List<int>();
            Task.Run(async () =>
            {
                await foreach (var t in engine.GenerateAsync(new EngineRequest(prompt, sampling)))
                {
                    if (tokens.Count == 0) (ttft, cached) = (clock.Elapsed.TotalSeconds, t.CachedPromptTokens);
                    tokens.Add(t.TokenId);
                }
            }).GetAwaiter().GetResult();
            return (ttft, cached, tokens.ToArray());
        }

        var on = new InferenceEngine(transformer, options);
        Run(on, Tokens(8), sampling with { MaxTokens = 2 }); // warm-up
        var (cold, _, _) = Run(on, first, sampling);
        var (warm, reused, withCache) = Run(on, second, sampling);
        on.DisposeAsync().AsTask().GetAwaiter().GetResult();
        var off = new InferenceEngine(transformer, options with { EnablePrefixCaching = false });
        var (uncached, _, withoutCache) = Run(off, second, sampling);
        off.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return new
        {
            shared_prefix_tokens = shared,
            prompt_tokens = shared + rest,
            first_ttft_s = Math.Round(cold, 3),
            second_ttft_s = Math.Round(warm, 3),
            second_cached_tokens = reused,
            second_to_first_ttft = Math.Round(warm / cold, 4),
            second_ttft_cache_off_s = Math.Round(uncached, 3),
            greedy_tokens_equal_cache_off = withCache.SequenceEqual(withoutCache),
        };
    }

    /// <summary>
    /// Weight bytes one decoded token reads: every parameter ActivePerToken counts at the in-memory
    /// width; with FP8 projections kept, 1 byte each except lm_head (stored bf16, held as --weights)
    /// and kv_b (the absorbed attention reads its dequantized f32 copy); block scales (4 bytes per
    /// 16,384 weights) are left out.
    /// </summary>
    static long ActiveBytes(ModelConfig c, DeepSeekMesh.Model.ModelOptions options)
    {
        long dense = options.WeightDtype == TorchSharp.torch.ScalarType.Float32 ? 4 : 2;
        long active = ParameterCounts.ActivePerToken(c);
        if (c.WeightBlockSize is null || !options.KeepFp8) return active * dense;
        long head = (long)c.VocabSize * c.HiddenSize;
        long kvB = (long)c.NumHiddenLayers * c.NumAttentionHeads * (c.QkNopeHeadDim + c.VHeadDim) * c.KvLoraRank;
        return (active - head - kvB) + kvB * 4 + head * dense;
    }

    /// <summary>
    /// Read bandwidth of the device the model computes on, now: the best of several sums over 512 MB
    /// (beyond any cache; on a GPU, several times its L2). The roofline is against this memory: the
    /// host's for the CPU, the GPU's own for CUDA (reading the sum back waits for the kernel).
    /// </summary>
    static double MemoryBandwidth(TorchSharp.torch.Device device)
    {
        using var data = TorchSharp.torch.ones(128L << 20, TorchSharp.torch.ScalarType.Float32, device);
        double best = double.MaxValue;
        for (int i = 0; i < 8; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var sum = data.sum();
            _ = sum.item<float>();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return (128L << 20) * 4 / best / 1e9;
    }
}
