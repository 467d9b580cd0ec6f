using DeepSeekMesh.Model.Inference;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Tests;

/// <summary>Our logits against those of DeepSeek's reference inference/model.py, for every case folder.</summary>
public sealed class ConformanceTests
{
    [Fact]
    public void ThereAreCasesToCompare() => Assert.True(RepoPaths.ConformanceCases().Count() >= 3, $"no conformance cases under {RepoPaths.Conformance}");

    [Theory]
    [MemberData(nameof(ConformanceCase.All), MemberType = typeof(ConformanceCase))]
    public void PrefillOfEveryPromptPrefixMatchesReference(string name)
    {
        var expected = ConformanceCase.Load(Path.Combine(RepoPaths.Conformance, name));
        using var model = Transformer.Load(expected.Directory);
        for (int i = 0; i < expected.Prompt.Length; i++)
        {
            using var cache = model.NewCache();
            var logits = Logits.Of(model, cache, expected.Prompt[..(i + 1)]);
            Logits.AssertClose(expected.PromptLogits[i], logits, expected.Tolerance, $"{name} prefill of prompt[0..{i}]");
        }
    }

    [Theory]
    [MemberData(nameof(ConformanceCase.All), MemberType = typeof(ConformanceCase))]
    public void GreedyDecodeOverTheCacheMatchesReference(string name)
    {
        var expected = ConformanceCase.Load(Path.Combine(RepoPaths.Conformance, name));
        using var model = Transformer.Load(expected.Directory);
        using var cache = model.NewCache();
        var input = expected.Prompt;
        for (int step = 0; step < expected.Generated.Length; step++)
        {
            var logits = Logits.Of(model, cache, input);
            Logits.AssertClose(expected.StepLogits[step], logits, expected.Tolerance, $"{name} step {step}");
            int token = Logits.ArgMax(logits);
            Assert.Equal(expected.Generated[step], token);
            input = [token];
        }
    }

    [Theory]
    [MemberData(nameof(ConformanceCase.All), MemberType = typeof(ConformanceCase))]
    public void Bf16StoredWeightsHeldAsBf16MatchReference(string name)
    {
        // What --weights auto does with DeepSeek's bf16 (and FP8) checkpoints on the CPU: the dense
        // matrices stay bf16 and every product widens them exactly, so prefill and decode must
        // still match the fp32 reference to its tolerance, greedy tokens equal.
        var expected = ConformanceCase.Load(Path.Combine(RepoPaths.Conformance, name));
        using (var checkpoint = Weights.Checkpoint.Open(expected.Directory))
            Assert.True(checkpoint.DenseMatricesAreBf16(), $"{name}: a dense matrix is not stored as bf16");
        using var model = Transformer.Load(expected.Directory, new ModelOptions { WeightDtype = ScalarType.BFloat16 });
        using var cache = model.NewCache();
        var input = expected.Prompt;
        for (int step = 0; step < expected.Generated.Length; step++)
        {
            var logits = Logits.Of(model, cache, input); // step 0: prefill of the prompt (widened copies), then decode (DenseGemv)
            Logits.AssertClose(expected.StepLogits[step], logits, expected.Tolerance, $"{name} bf16 weights, step {step}");
            int token = Logits.ArgMax(logits);
            Assert.Equal(expected.Generated[step], token);
            input = [token];
        }
    }

    [Theory]
    [MemberData(nameof(ConformanceCase.All), MemberType = typeof(ConformanceCase))]
    public void NaiveAndAbsorbedAttentionAgree(string name)
    {
        var expected = ConformanceCase.Load(Path.Combine(RepoPaths.Conformance, name));
        using var naive = Transformer.Load(expected.Directory, new ModelOptions { Attention = AttentionImpl.Naive });
        using var absorbed = Transformer.Load(expected.Directory, new ModelOptions { Attention = AttentionImpl.Absorb });
        using var naiveCache = naive.NewCache();
        using var absorbedCache = absorbed.NewCache();
        int[] input = expected.Prompt;
        for (int step = 0; step < 4; step++)
        {
            var a = Logits.Of(naive, naiveCache, input);
            var b = Logits.Of(absorbed, absorbedCache, input);
            Logits.AssertClose(a, b, 1e-4, $"{name} step {step}");
            input = [Logits.ArgMax(a)];
        }
    }
}

static class Logits
{
    public static float[] Of(Transformer model, LatentCache cache, int[] tokens)
    {
        using var batch = new ForwardBatch([(cache, tokens)], model.Options.Device);
        using var logits = model.Forward(batch);
        return logits[0].data<float>().ToArray();
    }

    public static int ArgMax(float[] row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }

    public static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = Math.Abs(expected[i] - actual[i]);
            if (!(d <= worst)) { worst = d; at = i; }
        }
        Assert.True(worst <= tolerance, $"{what}: max |Δ| = {worst:g4} at logit {at} (expected {expected[Math.Max(at, 0)]}, got {actual[Math.Max(at, 0)]}), tolerance {tolerance}");
    }
}
