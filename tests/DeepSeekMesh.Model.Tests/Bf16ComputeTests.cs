using DeepSeekMesh.Model.Inference;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Tests;

/// <summary>
/// bf16 compute (activations, latent cache; norms, softmax, RoPE, the gate and the MoE sum in f32) as
/// the GPU runs it, on the CPU, against the fp32 reference vectors: greedy decoding must choose the
/// reference's tokens and every logit stay within the stated tolerance of the fp32 reference.
/// </summary>
/// <remarks>
/// Measured max |Δ| per position (logits of magnitude up to ~3; bf16 keeps 8 significant bits), with
/// greedy tokens equal to the reference's in all 6 runs: f32 weights: median 0.03–0.04, worst 0.048
/// except one prompt prefix of tiny-a at 0.705, where a bf16 hidden state flips a near-tied expert
/// choice of these random-weight gates. bf16 weights (the GPU default): the same for tiny-a and
/// tiny-b; tiny-c, whose FP8 weights are dequantized to bf16 (as the reference does in bf16) rather
/// than to f32 (as the fp32 vectors were made), median 0.115–0.127, worst 1.64 (prefill of the first
/// token; one of its 12 prefixes picks another argmax, its 8 greedy decode steps do not).
/// </remarks>
public sealed class Bf16ComputeTests(ITestOutputHelper output)
{
    /// <summary>Every logit of every position, against the fp32 reference (the worst measured is 1.64).</summary>
    public const double Tolerance = 2.0;

    /// <summary>The median over positions of the per-position max |Δ| (measured: 0.03–0.04; 0.127 with FP8 weights held in bf16).</summary>
    public const double TypicalTolerance = 0.15;

    public static IEnumerable<object[]> Cases() =>
        ConformanceCase.All().SelectMany(c => new[] { new object[] { c[0], "bf16" }, new object[] { c[0], "f32" } });

    static ModelOptions Bf16Compute(string weights) => new()
    {
        ComputeDtype = ScalarType.BFloat16,
        WeightDtype = weights == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32,
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GreedyDecodeInBf16ChoosesTheReferenceTokens(string name, string weights)
    {
        var expected = ConformanceCase.Load(Path.Combine(RepoPaths.Conformance, name));
        using var model = Transformer.Load(expected.Directory, Bf16Compute(weights));
        using var cache = model.NewCache();
        var input = expected.Prompt;
        var drift = new List<double>();
        for (int step = 0; step < expected.Generated.Length; step++)
        {
            var logits = Logits.Of(model, cache, input);
            drift.Add(MaxAbsDiff(expected.StepLogits[step], logits));
            int token = Logits.ArgMax(logits);
            Assert.True(expected.Generated[step] == token, $"{name} step {step}: bf16 chose {token}, the reference {expected.Generated[step]}");
            input = [token];
        }
        AssertDrift($"{name}, {weights} weights, greedy decode", drift);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bf16PrefillOfEveryPromptPrefixStaysWithinTolerance(string name, string weights)
    {
        var expected = ConformanceCase.Load(Path.Combine(RepoPaths.Conformance, name));
        using var model = Transformer.Load(expected.Directory, Bf16Compute(weights));
        var drift = new List<double>();
        int sameArgMax = 0;
        for (int i = 0; i < expected.Prompt.Length; i++)
        {
            using var cache = model.NewCache();
            var logits = Logits.Of(model, cache, expected.Prompt[..(i + 1)]);
            drift.Add(MaxAbsDiff(expected.PromptLogits[i], logits));
            if (Logits.ArgMax(expected.PromptLogits[i]) == Logits.ArgMax(logits)) sameArgMax++;
        }
        output.WriteLine($"{name}, {weights} weights: the reference's argmax at {sameArgMax} of {expected.Prompt.Length} prompt prefixes");
        AssertDrift($"{name}, {weights} weights, prefill of every prompt prefix", drift);
    }

    void AssertDrift(string what, List<double> drift)
    {
        var sorted = drift.Order().ToArray();
        double median = sorted[sorted.Length / 2], worst = sorted[^1];
        output.WriteLine($"{what}: max |Δ| against the fp32 reference per position: median {median:g3}, worst {worst:g3} ({string.Join(" ", drift.Select(d => d.ToString("g2")))})");
        Assert.True(worst <= Tolerance, $"{what}: worst position drifts {worst:g4} from the fp32 reference, tolerance {Tolerance}");
        Assert.True(median <= TypicalTolerance, $"{what}: median position drifts {median:g4} from the fp32 reference, tolerance {TypicalTolerance}");
    }

    [Fact]
    public void TheLatentCacheHoldsTheComputeDtype()
    {
        var directory = RepoPaths.ConformanceCases().First();
        using var model = Transformer.Load(directory, Bf16Compute("f32"));
        using var pool = new LatentCachePool(model.Config, model.Options, blocks: 1);
        Assert.Equal(ScalarType.BFloat16, pool.Latent(0).dtype);
        Assert.Equal(ScalarType.BFloat16, pool.Pe(0).dtype);
        using var cache = model.NewCache();
        var logits = Logits.Of(model, cache, [1, 2, 3]); // f32 weights, bf16 activations: runs and gives f32 logits
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }

    static double MaxAbsDiff(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        return worst;
    }
}
