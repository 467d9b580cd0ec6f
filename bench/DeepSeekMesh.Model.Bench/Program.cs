// Micro-benchmarks of the model's big operations, each against libtorch in the same run.
// Usage: dotnet run -c Release --project bench/DeepSeekMesh.Model.Bench -- gemv [OUT IN [ROUNDS]]
//        dotnet run -c Release --project bench/DeepSeekMesh.Model.Bench -- experts
//        dotnet run -c Release --project bench/DeepSeekMesh.Model.Bench -- peak
//        dotnet run -c Release --project bench/DeepSeekMesh.Model.Bench -- profile MODEL_DIR [f32|bf16|fp8 [BATCH [STEPS]]]
//        dotnet run -c Release --project bench/DeepSeekMesh.Model.Bench -- threadtest MODEL_DIR
// gemv: y = x Wᵀ on the lm_head shape (default small's [129280, 1024]) for 1, 4 and 16 rows: libtorch's
// F.linear (f32 and bf16 weights), DenseGemv (f32 and bf16), and a plain sum over the f32
// weights (the read bandwidth), interleaved round by round; the best round of each, in GB/s of weights.
// experts: one MoE layer's 6 routed experts at batch 1, grouped (one DenseGemv loop) vs libtorch one by one.
// peak: fp32 GEMM GFLOP/s of libtorch (the ceiling for batch-16 decode and prefill).
// profile: where a decode step's time goes — the model's own layer classes loaded from the
// checkpoint and timed one by one over STEPS decode steps of BATCH sequences after a 64-token prompt.
// threadtest: the same decode steps on the process's main thread and on a new thread, interleaved.
using System.Diagnostics;
using DeepSeekMesh.Model;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Model.Weights;
using DeepSeekMesh.Sampling;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

set_num_threads(int.TryParse(Environment.GetEnvironmentVariable("TORCH_THREADS"), out var torchThreads) ? torchThreads : Environment.ProcessorCount); // TORCH_THREADS: libtorch's intra-op threads (our kernels use the .NET pool either way)
Console.WriteLine($"threads {get_num_threads()}, cores {Environment.ProcessorCount}, OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(unset)"}, load average {LoadAverage()}");
var mode = args.Length > 0 ? args[0] : "gemv";
// Not on the main thread: the thread that loads the weights ran later libtorch ops several times
// slower here (threadtest: the same decode steps on the loading thread and on a new one).
var worker = new Thread(() =>
{
    if (mode == "peak") Peak();
    else if (mode == "experts") ExpertsBench.Run();
    else if (mode == "profile") Profile(args[1], args.Length > 2 && args[2] is "bf16" or "fp8" ? ScalarType.BFloat16 : ScalarType.Float32, args.Length > 2 && args[2] == "fp8",
        args.Length > 3 ? int.Parse(args[3]) : 1, args.Length > 4 ? int.Parse(args[4]) : 16);
    else Gemv(args.Length > 2 ? int.Parse(args[1]) : 129_280, args.Length > 2 ? int.Parse(args[2]) : 1024, args.Length > 3 ? int.Parse(args[3]) : 9);
});
if (mode == "threadtest") ThreadTest(args[1]); // main thread vs a new thread, interleaved
else
{
    worker.Start();
    worker.Join();
}
return 0;

static void Gemv(int outFeatures, int inFeatures, int rounds)
{
    using var g = new Generator(3);
    using var w = randn([outFeatures, inFeatures], generator: g); // [out, in] f32
    using var w16 = w.to(ScalarType.BFloat16); // [out, in] bf16
    double f32Bytes = 4.0 * outFeatures * inFeatures, bf16Bytes = f32Bytes / 2;
    Console.WriteLine($"weights [{outFeatures}, {inFeatures}]: {f32Bytes / 1e6:F0} MB f32, {bf16Bytes / 1e6:F0} MB bf16; best of {rounds} interleaved rounds");
    foreach (int rows in new[] { 1, 4, 16 })
    {
        using var x = randn([rows, inFeatures], generator: g); // [rows, in]
        var cases = new (string Name, double Bytes, Func<Tensor> Run)[]
        {
            ("sum over the f32 weights (bandwidth)", f32Bytes, () => w.sum()),
            ("libtorch F.linear f32", f32Bytes, () => F.linear(x, w)),
            ("DenseGemv f32", f32Bytes, () => DenseGemv.Forward(x, w)),
            ("libtorch F.linear bf16 (x as bf16)", bf16Bytes, () => F.linear(x.to(ScalarType.BFloat16), w16)),
            ("DenseGemv bf16 (f32 accumulation)", bf16Bytes, () => DenseGemv.Forward(x, w16)),
        };
        var best = cases.Select(_ => double.MaxValue).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int c = 0; c < cases.Length; c++)
            {
                var clock = Stopwatch.StartNew();
                using (var y = cases[c].Run()) { }
                best[c] = Math.Min(best[c], clock.Elapsed.TotalSeconds);
            }
        using (var expected = F.linear(x, w))
        using (var actual = DenseGemv.Forward(x, w))
            Console.WriteLine($"rows {rows}: DenseGemv vs F.linear max |Δ| {(expected - actual).abs().max().item<float>():G3}");
        for (int c = 0; c < cases.Length; c++)
            Console.WriteLine($"  {cases[c].Name,-40} {best[c] * 1e3,8:F2} ms  {cases[c].Bytes / best[c] / 1e9,6:F1} GB/s");
    }
}

static void Peak()
{
    foreach (var (m, k, n) in new[] { (16, 1024, 129_280), (512, 1024, 4096), (2048, 2048, 2048) })
    {
        using var g = new Generator(3);
        using var a = randn([m, k], generator: g);
        using var b = randn([n, k], generator: g);
        double best = double.MaxValue;
        for (int r = 0; r < 5; r++)
        {
            var clock = Stopwatch.StartNew();
            using (var y = F.linear(a, b)) { }
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        Console.WriteLine($"fp32 GEMM [{m}, {k}] x [{k}, {n}]: {best * 1e3:F1} ms, {2.0 * m * k * n / best / 1e9:F1} GFLOP/s");
    }
}

static void Profile(string directory, ScalarType weights, bool keepFp8, int batch, int steps)
{
    var options = new ModelOptions { WeightDtype = weights, KeepFp8 = keepFp8 }; // fp8: FP8 projections kept, the rest bf16
    var config = ModelConfig.Load(directory);
    var checkpoint = Checkpoint.Open(directory);
    if (config.WeightBlockSize is { } block) checkpoint = checkpoint.WithBlockSize(block);
    var ctx = new LoadContext(checkpoint, config, options);
    var clock = Stopwatch.StartNew();
    using var experts = LocalExpertExecutor.Load(ctx);
    int layers = config.NumHiddenLayers;
    var attention = Enumerable.Range(0, layers).Select(l => new Mla(ctx, l)).ToArray();
    var norms = Enumerable.Range(0, layers).Select(l => RmsNorm.Load(ctx, $"model.layers.{l}.input_layernorm.weight", config.HiddenSize)).ToArray();
    var gates = Enumerable.Range(0, layers).Select(l => config.IsMoeLayer(l) ? Gate.Load(ctx, l) : null).ToArray();
    var ffn = Enumerable.Range(0, layers).Select(l => config.IsMoeLayer(l)
        ? (IFeedForward)Moe.Load(ctx, l, experts, Gate.Load(ctx, l))
        : Mlp.Load(ctx, $"model.layers.{l}.mlp", config.HiddenSize, config.IntermediateSize)).ToArray();
    var shared = Enumerable.Range(0, layers).Select(l => config.IsMoeLayer(l) && config.NSharedExperts > 0
        ? Mlp.Load(ctx, $"model.layers.{l}.mlp.shared_experts", config.HiddenSize, (long)config.MoeIntermediateSize * config.NSharedExperts) : null).ToArray();
    var embed = ctx.Matrix("model.embed_tokens.weight", config.VocabSize, config.HiddenSize, weights);
    using var head = ctx.Linear("lm_head.weight", config.VocabSize, config.HiddenSize);
    checkpoint.Dispose();
    Console.WriteLine($"loaded {directory} ({weights}) in {clock.Elapsed.TotalSeconds:F1} s; batch {batch}, {steps} decode steps after a 64-token prompt");

    using var rope = new RotaryEmbedding(config, CPU);
    using var pool = new LatentCachePool(config, options, blocks: batch * (64 + steps + 16) / 16 + batch);
    var caches = Enumerable.Range(0, batch).Select(_ => new LatentCache(pool, config)).ToArray();
    var random = new Random(5);
    var times = new Dictionary<string, double>();
    void Time(string what, Action run)
    {
        var c = Stopwatch.StartNew();
        run();
        times[what] = times.GetValueOrDefault(what) + c.Elapsed.TotalSeconds;
    }
    var sampler = Enumerable.Range(0, batch).Select(_ => new Sampler(SamplingParams.Greedy, config.VocabSize, [1], [])).ToArray();
    OnNewThread(() =>
    {
        for (int step = -1; step < steps; step++) // step -1: the prompt (not timed)
        {
            var inputs = caches.Select(cache => (cache, (IReadOnlyList<int>)Enumerable.Range(0, step < 0 ? 64 : 1).Select(_ => random.Next(config.VocabSize)).ToArray())).ToArray();
            if (step == 0) times.Clear();
            var total = Stopwatch.StartNew();
            using var scope = NewDisposeScope();
            ForwardBatch forward = null!;
            Time("batch tensors", () => forward = new ForwardBatch(inputs, CPU));
            Tensor h = null!, cos = null!, sin = null!;
            Time("embed + rope angles", () =>
            {
                h = embed.index_select(0, forward.Tokens).to(ScalarType.Float32); // [T, hidden]
                (cos, sin) = rope.Angles(forward.Positions);
            });
            for (int l = 0; l < layers; l++)
            {
                var x = norms[l].Forward(h); // the same normalized input for every layer: only the timing matters here
                Time("attention (MLA, 8 layers: projections, cache, scores, o_proj)", () => attention[l].Forward(x, forward, cos, sin));
                if (gates[l] is { } gate)
                {
                    Time("gate (route only, also inside MoE)", () => gate.Route(x));
                    Time("MoE (gate + grouping + routed experts + shared expert + sum)", () => ffn[l].Forward(x));
                    var work = Enumerable.Range(0, config.NumExpertsPerTok).Select(e => new ExpertWork(e, x)).ToArray(); // k experts, every row
                    Time("  routed experts alone (k, every row each; also inside MoE)", () => experts.Start(l, work).Wait());
                    if (shared[l] is { } s) Time("  shared expert alone (also inside MoE)", () => s.Forward(x));
                }
                else Time("dense MLP (layer 0)", () => ffn[l].Forward(x));
            }
            Tensor logits = null!;
            Time("lm_head", () => logits = head.Forward(h.index_select(0, forward.LastRows)));
            float[] rows = null!;
            Time("logits to host", () => rows = TensorData.ToArray<float>(logits));
            Time("sampler", () =>
            {
                for (int i = 0; i < batch; i++) sampler[i].Sample(new ReadOnlySpan<float>(rows, i * config.VocabSize, config.VocabSize));
            });
            forward.Commit();
            forward.Dispose();
            if (step >= 0) times["(whole step)"] = times.GetValueOrDefault("(whole step)") + total.Elapsed.TotalSeconds;
        }
    });
    foreach (var (what, seconds) in times.OrderByDescending(t => t.Value))
        Console.WriteLine($"  {what,-66} {seconds / steps * 1e3,8:F2} ms/step");
    double bandwidth = 0;
    OnNewThread(() => bandwidth = Bandwidth());
    long active = ParameterCounts.ActivePerToken(config) * (weights == ScalarType.Float32 ? 4 : 2);
    double step = times["(whole step)"] / steps;
    Console.WriteLine($"  read bandwidth now (sum over 512 MB, best of 6): {bandwidth:F1} GB/s; active weights {active / 1e6:F0} MB per token"
        + (batch == 1 ? $" -> {active / step / 1e9:F1} GB/s effective = {active / step / 1e9 / bandwidth:P0} of the bandwidth roofline" : ""));
    foreach (var c in caches) c.Dispose();
    foreach (var a in attention) a.Dispose();
    foreach (var f in ffn) f.Dispose();
    embed.Dispose();

    // The same steps through the whole model, for comparison with the sum of the parts.
    using var model = Transformer.Load(directory, options);
    using var modelPool = new LatentCachePool(config, options, blocks: batch * (64 + steps + 16) / 16 + batch);
    var modelCaches = Enumerable.Range(0, batch).Select(_ => new LatentCache(modelPool, config)).ToArray();
    double whole = 0;
    OnNewThread(() =>
    {
        for (int step = -1; step < steps; step++)
        {
            var inputs = modelCaches.Select(cache => (cache, (IReadOnlyList<int>)Enumerable.Range(0, step < 0 ? 64 : 1).Select(_ => random.Next(config.VocabSize)).ToArray())).ToArray();
            var c = Stopwatch.StartNew();
            using (var forward = new ForwardBatch(inputs, CPU))
            using (var logits = model.Forward(forward)) { }
            if (step >= 0) whole += c.Elapsed.TotalSeconds;
        }
    });
    Console.WriteLine($"  {"Transformer.Forward (batch tensors to logits, same steps)",-66} {whole / steps * 1e3,8:F2} ms/step");
    foreach (var c in modelCaches) c.Dispose();
}

static void ThreadTest(string directory)
{
    using var model = Transformer.Load(directory);
    var config = model.Config;
    var random = new Random(5);
    using var cache = model.NewCache(256);
    double Steps(int n)
    {
        var c = Stopwatch.StartNew();
        for (int i = 0; i < n; i++)
        {
            using var forward = new ForwardBatch([(cache, new[] { random.Next(config.VocabSize) })], CPU);
            using var logits = model.Forward(forward);
        }
        return c.Elapsed.TotalMilliseconds / n;
    }
    using (var forward = new ForwardBatch([(cache, Enumerable.Range(0, 64).Select(_ => random.Next(config.VocabSize)).ToArray())], CPU))
    using (var logits = model.Forward(forward)) { }
    for (int r = 0; r < 3; r++)
    {
        Console.WriteLine($"main thread ({get_num_threads()} torch threads): {Steps(8):F1} ms/step");
        double other = 0;
        int threads = 0;
        var t = new Thread(() => { threads = get_num_threads(); other = Steps(8); });
        t.Start();
        t.Join();
        Console.WriteLine($"new thread ({threads} torch threads): {other:F1} ms/step");
    }
}

/// <summary>
/// Runs the steps on a thread other than the one that loaded the weights, as the engine does: here
/// the loading thread ran every later libtorch op several times slower (threadtest shows it).
/// </summary>
static void OnNewThread(Action run)
{
    var t = new Thread(() => run());
    t.Start();
    t.Join();
}

/// <summary>Read bandwidth now: the best of six sums over 512 MB (as <c>dsmesh bench</c> measures it).</summary>
static double Bandwidth()
{
    using var data = ones(128L << 20, ScalarType.Float32);
    double best = double.MaxValue;
    for (int i = 0; i < 6; i++)
    {
        var clock = Stopwatch.StartNew();
        using var sum = data.sum();
        best = Math.Min(best, clock.Elapsed.TotalSeconds);
    }
    return (128L << 20) * 4 / best / 1e9;
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

/// <summary>
/// One MoE layer's routed experts at batch 1 (k = 6 of small's shapes: gate+up [1024, 1024], down
/// [1024, 512]): Linear.Grouped (one DenseGemv loop per projection) against libtorch one expert at
/// a time, interleaved, f32 and bf16 weights.
/// </summary>
static class ExpertsBench
{
    public static void Run()
    {
        foreach (var dtype in new[] { ScalarType.Float32, ScalarType.BFloat16 })
        {
            var gateUp = Enumerable.Range(0, 6).Select(_ => new Linear(randn(1024, 1024).to(dtype))).ToArray();
            var down = Enumerable.Range(0, 6).Select(_ => new Linear(randn(1024, 512).to(dtype))).ToArray();
            using var x = randn(1, 1024);
            using var h = randn(1, 512);
            var xs = Enumerable.Repeat(x, 6).ToArray();
            var hs = Enumerable.Repeat(h, 6).ToArray();
            double grouped = double.MaxValue, alone = double.MaxValue;
            for (int round = 0; round < 5; round++)
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < 200; i++)
                {
                    using var a = Linear.Grouped(gateUp, xs);
                    using var b = Linear.Grouped(down, hs);
                }
                grouped = Math.Min(grouped, clock.Elapsed.TotalMilliseconds / 200);
                clock.Restart();
                for (int i = 0; i < 200; i++)
                {
                    using var scope = NewDisposeScope();
                    for (int e = 0; e < 6; e++)
                    {
                        if (dtype == ScalarType.Float32) { F.linear(x, gateUp[e].Weight); F.linear(h, down[e].Weight); }
                        else { F.linear(x.to(dtype), gateUp[e].Weight).to(ScalarType.Float32); F.linear(h.to(dtype), down[e].Weight).to(ScalarType.Float32); }
                    }
                }
                alone = Math.Min(alone, clock.Elapsed.TotalMilliseconds / 200);
            }
            long bytes = 6L * (1024 * 1024 + 1024 * 512) * (dtype == ScalarType.Float32 ? 4 : 2);
            Console.WriteLine($"{dtype}: grouped {grouped:F3} ms ({bytes / grouped / 1e6:F1} GB/s), libtorch one by one {alone:F3} ms ({bytes / alone / 1e6:F1} GB/s) per layer, best of 5 x 200");
            foreach (var l in gateUp.Concat(down)) l.Dispose();
        }
    }
}
