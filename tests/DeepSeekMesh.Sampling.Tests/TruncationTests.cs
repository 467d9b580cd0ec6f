using DeepSeekMesh.Sampling.Processors;

namespace DeepSeekMesh.Sampling.Tests;

public class TruncationTests
{
    private static SequenceHistory H(int vocab) => new(vocab, []);

    /// <summary>Reference nucleus (double precision, full sort): kept while the mass before a token is below p.</summary>
    private static HashSet<int> ReferenceNucleus(float[] logits, double p, double temperature = 1.0, IEnumerable<int>? among = null)
    {
        var ids = among?.ToArray() ?? Enumerable.Range(0, logits.Length).ToArray();
        ids = [.. ids.Where(i => !float.IsNegativeInfinity(logits[i])).OrderByDescending(i => logits[i]).ThenBy(i => i)];
        double max = logits[ids[0]] / temperature;
        var w = ids.Select(i => Math.Exp(logits[i] / temperature - max)).ToArray();
        double total = w.Sum(), cum = 0;
        var kept = new HashSet<int>();
        for (int j = 0; j < ids.Length; j++)
        {
            if (kept.Count > 0 && cum >= p * total) break;
            kept.Add(ids[j]);
            cum += w[j];
        }
        return kept;
    }

    [Fact]
    public void TopK_NeverEmitsOutsideKBest_AndEmitsAllOfThem()
    {
        var logits = TestUtil.RandomLogits(3000, 1, -2f, 2f);
        var best = TestUtil.SortedIdsDescending(logits).Take(10).ToHashSet();
        var counts = TestUtil.Histogram(new SamplingParams { TopK = 10, Seed = 3 }, logits, 50_000);
        for (int i = 0; i < counts.Length; i++)
        {
            if (best.Contains(i)) Assert.True(counts[i] > 0, $"top-k member {i} never drawn");
            else Assert.Equal(0, counts[i]);
        }
        // Within the k best, frequencies follow the renormalized softmax.
        var probs = new double[logits.Length];
        var sm = TestUtil.Softmax(logits);
        double z = best.Sum(i => sm[i]);
        foreach (int i in best) probs[i] = sm[i] / z;
        double chi2 = TestUtil.ChiSquare(counts, probs, out int df);
        Assert.True(chi2 < TestUtil.ChiSquareBound(df), $"chi2 {chi2:F1} (df {df})");
    }

    [Fact]
    public void TopK_One_IsArgmax()
    {
        var logits = TestUtil.RandomLogits(5000, 8);
        int best = TestUtil.SortedIdsDescending(logits)[0];
        var counts = TestUtil.Histogram(new SamplingParams { TopK = 1, Seed = 1 }, logits, 2000);
        Assert.Equal(2000, counts[best]);
    }

    [Fact]
    public void TopK_Dense_MatchesFullSort_WithTies()
    {
        var rng = new Random(5);
        var logits = new float[10_007];
        for (int i = 0; i < logits.Length; i++) logits[i] = rng.Next(0, 40); // many ties
        var order = TestUtil.SortedIdsDescending(logits);
        foreach (int k in new[] { 1, 7, 50, 333, 10_006 })
        {
            var state = new LogitsState(logits);
            new TopKProcessor(k).Apply(state, H(logits.Length));
            Assert.True(state.IsTruncated);
            Assert.True(state.CandidatesSortedDescending);
            Assert.Equal(order.Take(k).ToArray(), state.CandidateIds.ToArray());
        }
    }

    [Fact]
    public void TopK_LargerThanVocab_IsNoOp()
    {
        var state = new LogitsState([1f, 2f, 3f]);
        new TopKProcessor(3).Apply(state, H(3));
        Assert.False(state.IsTruncated);
    }

    [Fact]
    public void TopP_NeverEmitsOutsideNucleus_AndEmitsAllMembers()
    {
        // Probabilities 0.40, 0.30, 0.15, 0.10, 0.05: mass before each = 0, .40, .70, .85, .95.
        // top_p = 0.8 keeps the first three (0.85 >= 0.8 stops at the fourth).
        float[] logits = [MathF.Log(0.10f), MathF.Log(0.40f), MathF.Log(0.05f), MathF.Log(0.30f), MathF.Log(0.15f)];
        var counts = TestUtil.Histogram(new SamplingParams { TopP = 0.8f, Seed = 4 }, logits, 60_000);
        Assert.Equal(0, counts[0]);
        Assert.Equal(0, counts[2]);
        Assert.True(counts[1] > 0 && counts[3] > 0 && counts[4] > 0);
        var probs = new double[5];
        probs[1] = 0.40 / 0.85;
        probs[3] = 0.30 / 0.85;
        probs[4] = 0.15 / 0.85;
        double chi2 = TestUtil.ChiSquare(counts, probs, out int df);
        Assert.True(chi2 < TestUtil.ChiSquareBound(df), $"chi2 {chi2:F1}");
    }

    /// <summary>The tokens still sampleable: the candidate list when truncated, else the finite logits.</summary>
    private static HashSet<int> Alive(LogitsState state) => state.IsTruncated
        ? state.CandidateIds.ToArray().ToHashSet()
        : Enumerable.Range(0, state.VocabSize).Where(i => !float.IsNegativeInfinity(state.Logits[i])).ToHashSet();

    [Fact]
    public void TopP_Dense_TiesAtBoundary_KeepLowerIdsFirst()
    {
        // Ten tokens of equal probability 0.1: top_p 0.35 keeps exactly the first four ids (mass before the 4th is 0.3).
        var logits = new float[10];
        var state = new LogitsState(logits);
        new TopPProcessor(0.35f).Apply(state, H(10));
        Assert.Equal([0, 1, 2, 3], Alive(state).Order().ToArray());
        // Many equal tokens (beyond the small-band sort) behave the same.
        logits = new float[1000];
        logits[500] = 1f;
        state = new LogitsState(logits);
        new TopPProcessor(0.5f).Apply(state, H(1000));
        double w1 = Math.E, total = w1 + 999;
        int expectedZeros = (int)Math.Ceiling((0.5 * total - w1) / 1.0); // tokens of weight 1 needed after token 500
        var alive = Alive(state).Order().ToArray();
        Assert.Contains(500, alive);
        Assert.Equal(expectedZeros + 1, alive.Length);
        Assert.Equal(Enumerable.Range(0, expectedZeros).ToArray(), alive.Where(i => i != 500).ToArray());
    }

    [Fact]
    public void TopP_Boundary_MassBeforeTokenDecides()
    {
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.3f), MathF.Log(0.2f)];
        var state = new LogitsState(logits);
        new TopPProcessor(0.49f).Apply(state, H(3));   // mass before token 1 is 0.5 >= 0.49: only token 0
        Assert.Equal([0], Alive(state).ToArray());
        state = new LogitsState(logits);
        new TopPProcessor(0.51f).Apply(state, H(3));   // 0.5 < 0.51: token 1 joins, then 0.8 >= 0.51 stops
        Assert.Equal([0, 1], Alive(state).Order().ToArray());
        state = new LogitsState(logits);
        new TopPProcessor(1e-6f).Apply(state, H(3));   // the best token is always kept
        Assert.Equal([0], Alive(state).ToArray());
        // The same on the truncated (top-k) path.
        state = new LogitsState(logits);
        new TopKProcessor(2).Apply(state, H(3));
        new TopPProcessor(0.6f).Apply(state, H(3));    // within top-2: masses 0.625, 0.375 -> 0.625 >= 0.6 stops
        Assert.Equal([0], state.CandidateIds.ToArray());
    }

    [Theory]
    [InlineData(0.3f, 1.0f)]
    [InlineData(0.9f, 0.7f)]
    [InlineData(0.95f, 1.0f)]
    [InlineData(0.99f, 1.3f)]
    [InlineData(0.5f, 2.0f)]
    public void TopP_Dense_LargeVocab_MatchesFullSortReference(float p, float temperature)
    {
        var logits = TestUtil.ModelLikeLogits(129_280, 17);
        var state = new LogitsState(logits);
        new TemperatureProcessor(temperature).Apply(state, H(logits.Length));
        new TopPProcessor(p).Apply(state, H(logits.Length));
        // Float32 sums cannot place a boundary more finely than ~1e-7 of the mass: require the exact double-precision
        // nucleus for some p' within 1e-6 of p (tokens at the boundary weigh ~1e-7 here, so this still fails on any real error).
        var ours = Alive(state);
        var lower = ReferenceNucleus(logits, p - 1e-6, temperature);
        var upper = ReferenceNucleus(logits, p + 1e-6, temperature);
        Assert.True(lower.IsSubsetOf(ours) && ours.IsSubsetOf(upper),
            $"nucleus size {ours.Count}, reference between {lower.Count} and {upper.Count}");
    }

    [Fact]
    public void TopP_Dense_FlatDistribution_MatchesReference()
    {
        var logits = TestUtil.RandomLogits(20_000, 23, 0f, 0.5f); // nearly flat: nucleus is most of the vocabulary
        var state = new LogitsState(logits);
        new TopPProcessor(0.9f).Apply(state, H(logits.Length));
        var ours = Alive(state);
        Assert.True(ReferenceNucleus(logits, 0.9 - 1e-6).IsSubsetOf(ours) && ours.IsSubsetOf(ReferenceNucleus(logits, 0.9 + 1e-6)));
    }

    [Fact]
    public void TopP_AfterTopK_UsesRenormalizedTopKMass()
    {
        var logits = TestUtil.ModelLikeLogits(50_000, 4);
        var state = new LogitsState(logits);
        new TopKProcessor(50).Apply(state, H(logits.Length));
        var topK = state.CandidateIds.ToArray();
        new TopPProcessor(0.9f).Apply(state, H(logits.Length));
        var expected = ReferenceNucleus(logits, 0.9, 1.0, topK);
        Assert.True(expected.SetEquals(state.CandidateIds.ToArray()));
    }

    [Fact]
    public void MinP_RemovesTokensBelowFractionOfMax()
    {
        // probs 0.5, 0.2, 0.09, 0.21; min_p 0.4 => threshold 0.2: keep 0.5, 0.21, 0.2 (0.2 >= 0.2 by logit margin) and drop 0.09.
        float[] logits = [MathF.Log(0.5f), MathF.Log(0.2f) + 1e-4f, MathF.Log(0.09f), MathF.Log(0.21f)];
        var state = new LogitsState(logits);
        new MinPProcessor(0.4f).Apply(state, H(4));
        Assert.Equal(float.NegativeInfinity, state.Logits[2]);
        Assert.Equal(logits[0], state.Logits[0]);
        Assert.Equal(logits[1], state.Logits[1]);
        Assert.Equal(logits[3], state.Logits[3]);

        var counts = TestUtil.Histogram(new SamplingParams { MinP = 0.4f, Seed = 9 }, logits, 20_000);
        Assert.Equal(0, counts[2]);
        Assert.True(counts[0] > 0 && counts[1] > 0 && counts[3] > 0);
    }

    [Fact]
    public void MinP_ThresholdIsOnTemperatureScaledProbabilities()
    {
        // Logit gap ln(4) ~ 1.386: ratio 0.25 at T=1 (kept by min_p 0.2), 0.0625 at T=0.5 (removed).
        float[] logits = [0f, -MathF.Log(4f)];
        Assert.True(TestUtil.Histogram(new SamplingParams { MinP = 0.2f, Seed = 1 }, logits, 4000)[1] > 0);
        Assert.Equal(0, TestUtil.Histogram(new SamplingParams { MinP = 0.2f, Temperature = 0.5f, Seed = 1 }, logits, 4000)[1]);
    }

    [Fact]
    public void MinP_Dense_LargeVocab_MatchesReference()
    {
        var logits = TestUtil.ModelLikeLogits(129_280, 6);
        var state = new LogitsState(logits);
        new MinPProcessor(0.05f).Apply(state, H(logits.Length));
        var p = TestUtil.Softmax(logits);
        double pmax = p.Max();
        for (int i = 0; i < logits.Length; i++)
        {
            if (Math.Abs(p[i] - 0.05 * pmax) < 1e-6 * pmax) continue; // too close to call in float
            Assert.Equal(p[i] < 0.05 * pmax, float.IsNegativeInfinity(state.Logits[i]));
        }
    }

    [Fact]
    public void MinP_OnTruncatedCandidates_FiltersList()
    {
        float[] logits = [0f, -1f, -2f, -3f, -4f];
        var state = new LogitsState(logits);
        new TopKProcessor(4).Apply(state, NoHistoryFor(5));
        new MinPProcessor(MathF.Exp(-1.5f)).Apply(state, NoHistoryFor(5));
        Assert.Equal([0, 1], state.CandidateIds.ToArray());
    }

    private static SequenceHistory NoHistoryFor(int vocab) => new(vocab, []);

    [Fact]
    public void AllTruncations_Combined_NeverLeaveTheIntersection()
    {
        var logits = TestUtil.ModelLikeLogits(129_280, 31);
        var p = new SamplingParams { Temperature = 0.8f, TopK = 50, TopP = 0.9f, MinP = 0.01f, Seed = 77 };
        var sampler = new Sampler(p, logits.Length);
        // Reference: min_p on scaled logits, then top-k, then nucleus over the survivors.
        var scaled = logits.Select(l => l / 0.8f).ToArray();
        float max = scaled.Max();
        var alive = Enumerable.Range(0, logits.Length).Where(i => scaled[i] >= max + MathF.Log(0.01f)).ToArray();
        var topK = alive.OrderByDescending(i => scaled[i]).ThenBy(i => i).Take(50).ToArray();
        var nucleus = ReferenceNucleus(scaled, 0.9, 1.0, topK);
        Assert.InRange(nucleus.Count, 2, 49); // the test needs every stage to matter
        double z = nucleus.Sum(i => Math.Exp(scaled[i] - max));
        var seen = new HashSet<int>();
        for (int i = 0; i < 5000; i++)
        {
            int t = sampler.Sample(logits).TokenId;
            Assert.Contains(t, nucleus);
            seen.Add(t);
        }
        foreach (int i in nucleus)
            if (Math.Exp(scaled[i] - max) / z > 0.003) Assert.Contains(i, seen);
    }
}
