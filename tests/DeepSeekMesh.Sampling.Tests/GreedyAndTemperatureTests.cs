namespace DeepSeekMesh.Sampling.Tests;

public class GreedyAndTemperatureTests
{
    [Fact]
    public void Greedy_PicksArgmax()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var logits = TestUtil.RandomLogits(1000 + seed * 37, seed);
            int expected = TestUtil.SortedIdsDescending(logits)[0];
            var s = new Sampler(SamplingParams.Greedy, logits.Length);
            Assert.Equal(expected, s.Sample(logits).TokenId);
        }
    }

    [Fact]
    public void Greedy_PicksArgmax_AtEveryPosition_IncludingTail()
    {
        // 1003 is not a multiple of the vector width: exercise the scalar tail and every lane.
        for (int pos = 0; pos < 1003; pos += 7)
        {
            var logits = new float[1003];
            logits[pos] = 1f;
            Assert.Equal(pos, new Sampler(SamplingParams.Greedy, logits.Length).Sample(logits).TokenId);
        }
        var tail = new float[1003];
        tail[1002] = 0.5f;
        Assert.Equal(1002, new Sampler(SamplingParams.Greedy, tail.Length).Sample(tail).TokenId);
    }

    [Fact]
    public void Greedy_TiesGoToLowestId()
    {
        var logits = new float[100];
        Array.Fill(logits, -1f);
        logits[17] = 3f;
        logits[42] = 3f;
        logits[99] = 3f;
        Assert.Equal(17, new Sampler(SamplingParams.Greedy, logits.Length).Sample(logits).TokenId);
        Array.Fill(logits, 0f);
        Assert.Equal(0, new Sampler(SamplingParams.Greedy, logits.Length).Sample(logits).TokenId);
    }

    [Fact]
    public void Greedy_IgnoresSeedAndTruncationParameters()
    {
        var logits = TestUtil.RandomLogits(5000, 3);
        int expected = TestUtil.SortedIdsDescending(logits)[0];
        for (ulong seed = 0; seed < 5; seed++)
        {
            var s = new Sampler(new SamplingParams { Temperature = 0f, Seed = seed, TopK = 3, TopP = 0.1f, MinP = 0.5f }, logits.Length);
            for (int i = 0; i < 10; i++) Assert.Equal(expected, s.Sample(logits).TokenId);
        }
    }

    [Fact]
    public void Greedy_RejectsNaN()
    {
        var logits = new float[16];
        logits[3] = float.NaN;
        Assert.Throws<ArgumentException>(() => new Sampler(SamplingParams.Greedy, 16).Sample(logits));
    }

    [Fact]
    public void Temperature_ToZero_ConvergesToArgmax()
    {
        float[] logits = [1.0f, 1.2f, 0.9f, 0.0f, -1f, 1.1f];
        const int draws = 20000;
        double previous = 0;
        foreach (float t in new[] { 2f, 1f, 0.5f, 0.2f, 0.1f, 0.05f })
        {
            var counts = TestUtil.Histogram(new SamplingParams { Temperature = t, Seed = 11 }, logits, draws);
            double argmaxShare = counts[1] / (double)draws;
            double expected = TestUtil.Softmax(logits, t)[1];
            Assert.InRange(argmaxShare, expected - 0.015, expected + 0.015);
            Assert.True(argmaxShare > previous, $"argmax share {argmaxShare} at T={t} should exceed {previous}");
            previous = argmaxShare;
        }
        // T = 0.01 (and anything below, raised to 0.01 as in vLLM): runner-up has relative weight e^-10.
        var nearZero = TestUtil.Histogram(new SamplingParams { Temperature = 0.001f, Seed = 12 }, logits, draws);
        Assert.True(nearZero[1] >= draws - 5);
        // T = 0 is exact argmax.
        Assert.Equal(1, new Sampler(new SamplingParams { Temperature = 0f }, logits.Length).Sample(logits).TokenId);
    }

    [Fact]
    public void Temperature_ScalesLogits()
    {
        var state = new LogitsState([2f, -4f, 0f]);
        new Processors.TemperatureProcessor(0.5f).Apply(state, new SequenceHistory(3, []));
        Assert.Equal([4f, -8f, 0f], state.Logits.ToArray());
    }

    [Fact]
    public void Temperature_One_EmpiricalFrequenciesMatchSoftmax_SmallVocab()
    {
        float[] logits = [2.0f, 1.5f, 1.0f, 0.5f, 0f, -0.5f, -1f, -3f];
        var counts = TestUtil.Histogram(new SamplingParams { Seed = 2024 }, logits, 200_000);
        double chi2 = TestUtil.ChiSquare(counts, TestUtil.Softmax(logits), out int df);
        Assert.True(chi2 < TestUtil.ChiSquareBound(df), $"chi2 {chi2:F1} >= bound {TestUtil.ChiSquareBound(df):F1} (df {df})");
    }

    [Fact]
    public void Temperature_One_EmpiricalFrequenciesMatchSoftmax_DensePathAcrossBlocks()
    {
        // 1300 tokens: several 512-token blocks of the dense inverse-CDF plus a ragged tail.
        var logits = TestUtil.RandomLogits(1300, 77, 0f, 3f);
        var counts = TestUtil.Histogram(new SamplingParams { Seed = 99 }, logits, 300_000);
        double chi2 = TestUtil.ChiSquare(counts, TestUtil.Softmax(logits), out int df);
        Assert.True(chi2 < TestUtil.ChiSquareBound(df), $"chi2 {chi2:F1} >= bound {TestUtil.ChiSquareBound(df):F1} (df {df})");
    }

    [Fact]
    public void Temperature_Other_EmpiricalFrequenciesMatchScaledSoftmax()
    {
        float[] logits = [2.0f, 1.5f, 1.0f, 0.5f, 0f, -0.5f];
        foreach (float t in new[] { 0.6f, 1.7f })
        {
            var counts = TestUtil.Histogram(new SamplingParams { Temperature = t, Seed = 5 }, logits, 100_000);
            double chi2 = TestUtil.ChiSquare(counts, TestUtil.Softmax(logits, t), out int df);
            Assert.True(chi2 < TestUtil.ChiSquareBound(df), $"T={t}: chi2 {chi2:F1} (df {df})");
        }
    }

    [Fact]
    public void ChiSquareCheck_CanFail_OnWrongDistribution()
    {
        // Guard that the statistical assertion has teeth: T=1 draws do not fit the T=0.8 distribution.
        float[] logits = [2.0f, 1.5f, 1.0f, 0.5f, 0f, -0.5f, -1f, -3f];
        var counts = TestUtil.Histogram(new SamplingParams { Seed = 2024 }, logits, 200_000);
        double chi2 = TestUtil.ChiSquare(counts, TestUtil.Softmax(logits, 0.8), out int df);
        Assert.True(chi2 > TestUtil.ChiSquareBound(df));
    }
}
