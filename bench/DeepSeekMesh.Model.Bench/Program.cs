// Micro-benchmarks of the model's big operations, each against libtorch in the same run.
// Usage: dotnet run -c Release --project bench/DeepSeekMesh.Model.Bench -- gemv [OUT IN [ROUNDS]]
//        dotnet run -c Release --project bench/DeepSeekMesh.Model.Bench -- peak
// gemv: y = x Wᵀ on the lm_head shape (default small's [129280, 1024]) for 1, 4 and 16 rows: libtorch's
// F.linear (f32 and bf16 weights), F32Gemv (f32), Bf16Gemv (bf16), and a plain sum over the f32
// weights (the read bandwidth), interleaved round by round; the best round of each, in GB/s of weights.
// peak: fp32 GEMM GFLOP/s of libtorch (the ceiling for batch-16 decode and prefill).
using System.Diagnostics;
using DeepSeekMesh.Model.Layers;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

set_num_threads(Environment.ProcessorCount);
Console.WriteLine($"threads {get_num_threads()}, cores {Environment.ProcessorCount}, OMP_WAIT_POLICY={Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") ?? "(unset)"}, load average {LoadAverage()}");
var mode = args.Length > 0 ? args[0] : "gemv";
if (mode == "peak") Peak();
else Gemv(args.Length > 2 ? int.Parse(args[1]) : 129_280, args.Length > 2 ? int.Parse(args[2]) : 1024, args.Length > 3 ? int.Parse(args[3]) : 9);
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
            ("F32Gemv f32", f32Bytes, () => F32Gemv.Forward(x, w)),
            ("libtorch F.linear bf16 (x as bf16)", bf16Bytes, () => F.linear(x.to(ScalarType.BFloat16), w16)),
            ("Bf16Gemv bf16 (f32 accumulation)", bf16Bytes, () => Bf16Gemv.Forward(x, w16)),
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
        using (var actual = F32Gemv.Forward(x, w))
            Console.WriteLine($"rows {rows}: F32Gemv vs F.linear max |Δ| {(expected - actual).abs().max().item<float>():G3}");
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

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
