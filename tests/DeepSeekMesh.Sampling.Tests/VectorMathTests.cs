namespace DeepSeekMesh.Sampling.Tests;

public class VectorMathTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(33)]
    [InlineData(1000)]
    [InlineData(129_280)]
    public void Kernels_MatchScalarReference(int n)
    {
        var x = TestUtil.RandomLogits(n, n, -30f, 30f);
        Assert.Equal(x.Max(), VectorMath.Max(x));
        Assert.Equal(Array.IndexOf(x, x.Max()), VectorMath.ArgMax(x));
        float probe = x[n / 2];
        Assert.Equal(x.Count(v => v >= probe), VectorMath.CountGreaterOrEqual(x, probe));

        float max = x.Max();
        double refSum = x.Sum(v => Math.Exp(v - (double)max));
        Assert.Equal(refSum, VectorMath.SumExp(x, max), refSum * 1e-5);

        var dst = new float[n];
        var blocks = new double[(n + VectorMath.BlockSize - 1) / VectorMath.BlockSize];
        double total = VectorMath.ExpWithBlockSums(x, max, dst, blocks);
        Assert.Equal(refSum, total, refSum * 1e-5);
        for (int i = 0; i < n; i++) Assert.Equal(Math.Exp(x[i] - (double)max), dst[i], Math.Max(1e-6, dst[i] * 1e-5));
        Assert.Equal(total, blocks.Sum(), total * 1e-9);

        var masked = (float[])x.Clone();
        VectorMath.MaskBelow(masked, probe);
        for (int i = 0; i < n; i++) Assert.Equal(x[i] < probe ? float.NegativeInfinity : x[i], masked[i]);

        var scaled = (float[])x.Clone();
        VectorMath.Scale(scaled, 0.5f);
        for (int i = 0; i < n; i++) Assert.Equal(x[i] * 0.5f, scaled[i]);
    }

    [Fact]
    public void FastExp_IsAccurateOverTheUsedRange()
    {
        double worst = 0;
        for (double x = -87.0; x <= 88.0; x += 0.000731)
        {
            float f = (float)x;
            double exact = Math.Exp(f);
            double rel = Math.Abs(VectorMath.Exp(f) - exact) / exact;
            worst = Math.Max(worst, rel);
        }
        Assert.True(worst < 3e-7, $"worst relative error {worst:E2}");
        Assert.Equal(1f, VectorMath.Exp(0f));
        Assert.Equal(0f, VectorMath.Exp(-88f));
        Assert.Equal(0f, VectorMath.Exp(-1000f));
        Assert.Equal(0f, VectorMath.Exp(float.NegativeInfinity));
        Assert.True(float.IsNaN(VectorMath.Exp(float.NaN)));
        Assert.True(float.IsFinite(VectorMath.Exp(1000f)));
    }

    [Fact]
    public void Exp_OfNegativeInfinity_IsZero()
    {
        var x = new float[40];
        Array.Fill(x, float.NegativeInfinity);
        x[3] = 0f;
        Assert.Equal(1.0, VectorMath.SumExp(x, 0f), 1e-6);
        var dst = new float[40];
        VectorMath.ExpWithBlockSums(x, 0f, dst, new double[1]);
        for (int i = 0; i < 40; i++) Assert.Equal(i == 3 ? 1f : 0f, dst[i], 1e-6f);
    }

    [Theory]
    [InlineData(1, 100)]
    [InlineData(5, 1000)]
    [InlineData(20, 129_280)]
    [InlineData(64, 50_000)]
    [InlineData(5000, 20_000)]
    public void SelectTop_MatchesFullSort(int k, int n)
    {
        var rng = new Random(k * 31 + n);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = rng.Next(0, 200) * 0.25f; // plenty of ties
        x[rng.Next(n)] = float.NegativeInfinity;
        var buf = new Candidate[k];
        int got = VectorMath.SelectTop(x, k, buf);
        var expected = TestUtil.SortedIdsDescending(x).Take(k).ToArray();
        Assert.Equal(Math.Min(k, n), got);
        Assert.Equal(expected, buf.Take(got).Select(c => c.Id).ToArray());
    }

    [Fact]
    public void SelectTop_SkipsNegativeInfinity()
    {
        float[] x = [float.NegativeInfinity, 1f, float.NegativeInfinity, 0f];
        var buf = new Candidate[4];
        Assert.Equal(2, VectorMath.SelectTop(x, 4, buf));
        Assert.Equal([1, 3], buf.Take(2).Select(c => c.Id).ToArray());
    }

    [Fact]
    public void Draw_InverseCdf_DenseAndTruncatedAgree()
    {
        var logits = TestUtil.RandomLogits(3000, 4, -3f, 3f);
        var ids = Enumerable.Range(0, 3000).ToArray();
        var dense = new LogitsState(logits);
        var sparse = new LogitsState(logits);
        sparse.SetCandidates(ids, sortedDescending: false);
        var probs = TestUtil.Softmax(logits);
        for (double u = 0.0005; u < 1; u += 0.0371)
        {
            int a = Sampler.Draw(dense, u);
            int b = Sampler.Draw(sparse, u);
            Assert.Equal(a, b);
            // The token chosen is the one whose CDF interval contains u.
            double before = probs.Take(a).Sum();
            Assert.InRange(u, before - 1e-5, before + probs[a] + 1e-5);
        }
    }

    [Fact]
    public void Draw_AllMasked_FallsBackToArgmax()
    {
        var state = new LogitsState([float.NegativeInfinity, float.NegativeInfinity]);
        Assert.Equal(0, Sampler.Draw(state, 0.5));
    }
}

public class NaNTests
{
    [Fact]
    public void NaNLogits_AreRejected_WhereDetected()
    {
        var logits = TestUtil.RandomLogits(1000, 1);
        logits[500] = float.NaN;
        Assert.True(float.IsNaN(VectorMath.Max(logits)));
        Assert.Throws<ArgumentException>(() => new Sampler(SamplingParams.Greedy, 1000).Sample(logits));
        Assert.Throws<ArgumentException>(() => new Sampler(SamplingParams.Greedy with { Logprobs = 2 }, 1000).Sample(logits));
        Assert.Throws<ArgumentException>(() => new Sampler(new SamplingParams { Seed = 1 }, 1000).Sample(logits));
    }
}
