// Micro-benchmark: per-token sampling time at DeepSeek-V3's vocabulary size.
// Usage: dotnet run -c Release --project bench/DeepSeekMesh.Sampling.Bench [-- iterations]
//        dotnet run -c Release --project bench/DeepSeekMesh.Sampling.Bench -- --grammar TOKENIZER_DIR [sequences] [max_tokens]
using System.Diagnostics;
using System.Runtime.Intrinsics;
using DeepSeekMesh.Sampling;

const int Vocab = 129_280;
if (args.Length > 0 && args[0] == "--grammar")
{
    DeepSeekMesh.Sampling.Bench.GrammarBench.Run(args[1], args.Length > 2 ? int.Parse(args[2]) : 50, args.Length > 3 ? int.Parse(args[3]) : 128);
    return;
}
int iterations = args.Length > 0 && int.TryParse(args[0], out int it) ? it : 5000;
int warmup = Math.Max(500, iterations / 2);

// A few model-like logit vectors (Gaussian bulk plus some strong tokens), rotated between steps.
var logitSets = new float[4][];
for (int s = 0; s < logitSets.Length; s++) logitSets[s] = ModelLikeLogits(Vocab, s + 1);
var prompt = new int[2000];
var prng = new Random(7);
for (int i = 0; i < prompt.Length; i++) prompt[i] = prng.Next(Vocab);

Console.WriteLine($"DeepSeekMesh.Sampling bench: vocab {Vocab}, {iterations} timed samples after {warmup} warm-up, " +
    $"{Environment.ProcessorCount} cores, Vector256 accelerated: {Vector256.IsHardwareAccelerated}, .NET {Environment.Version}");
Console.WriteLine($"{"scenario (per sampled token)",-58} {"median",10} {"p90",10} {"mean",10} {"best100",10} {"cpu/tok",10}");

if (args.Contains("--kernels"))
{
    // Raw kernel cost, for orientation: one pass over the vocabulary.
    var x = logitSets[0];
    var dst = new float[Vocab];
    var blocks = new double[Vocab / VectorMath.BlockSize + 1];
    var cands = new Candidate[64];
    float mx = VectorMath.Max(x);
    var hist = new SequenceHistory(Vocab, []);
    var st = new LogitsState(Vocab);
    Kernel("copy", () => x.AsSpan().CopyTo(dst));
    Kernel("Max", () => VectorMath.Max(x));
    Kernel("ArgMax", () => VectorMath.ArgMax(x));
    Kernel("SumExp", () => VectorMath.SumExp(x, mx));
    Kernel("sum of Vector256.Exp (runtime)", () => DeepSeekMesh.Sampling.Bench.Probe.SumExpRuntime(x));
    Kernel("ExpWithBlockSums", () => VectorMath.ExpWithBlockSums(x, mx, dst, blocks));
    Kernel("CountGreaterOrEqual", () => VectorMath.CountGreaterOrEqual(x, 0f));
    Kernel("SelectTop k=5", () => VectorMath.SelectTop(x, 5, cands));
    Kernel("SelectTop k=50", () => VectorMath.SelectTop(x, 50, cands));
    Kernel("Scale", () => VectorMath.Scale(dst, 1.0f));
    Kernel("load + temperature 0.8", () => { st.Load(x); new DeepSeekMesh.Sampling.Processors.TemperatureProcessor(0.8f).Apply(st, hist); });
    Kernel("load + T0.8 + top_p 0.9 dense", () => { st.Load(x); new DeepSeekMesh.Sampling.Processors.TemperatureProcessor(0.8f).Apply(st, hist); new DeepSeekMesh.Sampling.Processors.TopPProcessor(0.9f).Apply(st, hist); });
    Kernel("load + T0.8 + min_p 0.05", () => { st.Load(x); new DeepSeekMesh.Sampling.Processors.TemperatureProcessor(0.8f).Apply(st, hist); new DeepSeekMesh.Sampling.Processors.MinPProcessor(0.05f).Apply(st, hist); });
    return;
}

Run("greedy (temperature 0)", SamplingParams.Greedy);
Run("greedy + logprobs 5", SamplingParams.Greedy with { Logprobs = 5 });
Run("greedy + penalties + logit_bias", SamplingParams.Greedy with
{
    RepetitionPenalty = 1.1f, FrequencyPenalty = 0.3f, PresencePenalty = 0.3f, LogitBias = Bias(),
});
Run("temperature 0.8 (full-vocab draw)", new SamplingParams { Temperature = 0.8f, Seed = 1 });
Run("temperature 0.8 + top_p 0.9 (no top_k)", new SamplingParams { Temperature = 0.8f, TopP = 0.9f, Seed = 1 });
Run("full: penalties+bias+T0.8+top_k50+top_p0.9+min_p0.05+lp5", new SamplingParams
{
    Temperature = 0.8f, TopK = 50, TopP = 0.9f, MinP = 0.05f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.3f,
    PresencePenalty = 0.3f, LogitBias = Bias(), Logprobs = 5, Seed = 1,
});
Run("full without min_p (top_k 50 + top_p 0.9 + lp5)", new SamplingParams
{
    Temperature = 0.8f, TopK = 50, TopP = 0.9f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.3f,
    PresencePenalty = 0.3f, LogitBias = Bias(), Logprobs = 5, Seed = 1,
});

void Run(string name, SamplingParams p)
{
    var sampler = new Sampler(p, Vocab, prompt, eosTokenIds: [1]);
    for (int i = 0; i < warmup; i++) sampler.Sample(logitSets[i & 3]);
    var ticks = new long[iterations];
    const int Batch = 100;
    double bestBatch = double.MaxValue;
    long checksum = 0;
    var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
    long batchStart = Stopwatch.GetTimestamp();
    for (int i = 0; i < iterations; i++)
    {
        var logits = logitSets[i & 3];
        long t0 = Stopwatch.GetTimestamp();
        var r = sampler.Sample(logits);
        long t1 = Stopwatch.GetTimestamp();
        ticks[i] = t1 - t0;
        checksum += r.TokenId;
        if ((i + 1) % Batch == 0)
        {
            bestBatch = Math.Min(bestBatch, (t1 - batchStart) * 1e6 / Stopwatch.Frequency / Batch);
            batchStart = Stopwatch.GetTimestamp();
        }
    }
    double cpuPerSample = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / iterations;
    Array.Sort(ticks);
    double us(long t) => t * 1e6 / Stopwatch.Frequency;
    double mean = 0;
    foreach (long t in ticks) mean += us(t);
    mean /= ticks.Length;
    Console.WriteLine($"{name,-58} {us(ticks[ticks.Length / 2]),7:F1} us {us(ticks[ticks.Length * 9 / 10]),7:F1} us {mean,7:F1} us {bestBatch,7:F1} us {cpuPerSample,7:F1} us  (checksum {checksum % 1000})");
}

void Kernel(string name, Action a)
{
    for (int i = 0; i < 500; i++) a();
    var t = new long[2000];
    for (int i = 0; i < t.Length; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        a();
        t[i] = Stopwatch.GetTimestamp() - t0;
    }
    Array.Sort(t);
    Console.WriteLine($"{"kernel: " + name,-58} {t[t.Length / 2] * 1e6 / Stopwatch.Frequency,7:F1} us");
}

static Dictionary<int, float> Bias() => new() { [10] = 5f, [20] = -100f, [30] = 2.5f, [40] = -3f };

static float[] ModelLikeLogits(int n, int seed)
{
    var rng = new Random(seed);
    var x = new float[n];
    for (int i = 0; i < n; i++)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        x[i] = (float)(2.5 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
    }
    for (int j = 0; j < 20; j++) x[rng.Next(n)] += 8f + (float)rng.NextDouble() * 6f;
    return x;
}
