namespace DeepSeekMesh.Sampling.Tests;

public class LogprobsTests
{
    [Fact]
    public void Logprobs_EqualHandComputedLogSoftmax_AndTopNSorted()
    {
        float[] logits = [0.5f, 2.0f, -1.0f, 2.0f, 1.0f, -3.0f];
        // Hand computation: logsumexp = ln(e^0.5 + 2e^2 + e^-1 + e^1 + e^-3)
        double lse = Math.Log(Math.Exp(0.5) + 2 * Math.Exp(2.0) + Math.Exp(-1.0) + Math.Exp(1.0) + Math.Exp(-3.0));
        var s = new Sampler(new SamplingParams { Temperature = 0f, Logprobs = 4 }, logits.Length);
        var r = s.Sample(logits);
        Assert.Equal(1, r.TokenId); // tie between 1 and 3 goes to the lower id
        Assert.Equal(2.0 - lse, r.Logprob, 5);
        Assert.Equal(2, r.Rank); // tokens at least as likely: 1 and 3
        Assert.Equal(4, r.TopLogprobs.Count);
        Assert.Equal([1, 3, 4, 0], r.TopLogprobs.Select(t => t.TokenId).ToArray());
        Assert.Equal(2.0 - lse, r.TopLogprobs[0].Logprob, 5);
        Assert.Equal(2.0 - lse, r.TopLogprobs[1].Logprob, 5);
        Assert.Equal(1.0 - lse, r.TopLogprobs[2].Logprob, 5);
        Assert.Equal(0.5 - lse, r.TopLogprobs[3].Logprob, 5);
    }

    [Fact]
    public void Logprobs_LargeVocab_MatchReference_AndAreIndependentOfSamplingTransforms()
    {
        var logits = TestUtil.ModelLikeLogits(129_280, 12);
        var reference = TestUtil.LogSoftmax(logits);
        var order = TestUtil.SortedIdsDescending(logits);
        var p = new SamplingParams
        {
            Temperature = 0.6f, TopK = 40, TopP = 0.8f, MinP = 0.02f, RepetitionPenalty = 1.3f, FrequencyPenalty = 0.5f,
            PresencePenalty = 0.5f, Logprobs = 20, Seed = 3,
        };
        var s = new Sampler(p, logits.Length, promptTokenIds: [order[0], order[1]]);
        for (int step = 0; step < 5; step++)
        {
            var r = s.Sample(logits);
            Assert.Equal(reference[r.TokenId], r.Logprob, 4);
            Assert.Equal(20, r.TopLogprobs.Count);
            for (int i = 0; i < 20; i++)
            {
                Assert.Equal(order[i], r.TopLogprobs[i].TokenId);
                Assert.Equal(reference[order[i]], r.TopLogprobs[i].Logprob, 4);
                if (i > 0) Assert.True(r.TopLogprobs[i].Logprob <= r.TopLogprobs[i - 1].Logprob);
            }
            Assert.Equal(Array.IndexOf(order, r.TokenId) + 1, r.Rank);
        }
    }

    [Fact]
    public void Logprobs_Zero_GivesChosenOnly_Null_GivesNothing()
    {
        float[] logits = [1f, 2f, 3f];
        var r0 = new Sampler(new SamplingParams { Temperature = 0f, Logprobs = 0 }, 3).Sample(logits);
        Assert.Equal(TestUtil.LogSoftmax(logits)[2], r0.Logprob, 5);
        Assert.Empty(r0.TopLogprobs);
        Assert.Equal(1, r0.Rank);
        var rn = new Sampler(SamplingParams.Greedy, 3).Sample(logits);
        Assert.True(float.IsNaN(rn.Logprob));
        Assert.Empty(rn.TopLogprobs);
        Assert.Equal(0, rn.Rank);
    }

    [Fact]
    public void Logprobs_TopN_LargerThanVocab_ReturnsWholeVocab()
    {
        float[] logits = [1f, 3f, 2f];
        var r = new Sampler(new SamplingParams { Temperature = 0f, Logprobs = 20 }, 3).Sample(logits);
        Assert.Equal([1, 2, 0], r.TopLogprobs.Select(t => t.TokenId).ToArray());
        Assert.Equal(1.0, r.TopLogprobs.Sum(t => Math.Exp(t.Logprob)), 5);
    }
}

public class SeedTests
{
    private static int[] Run(SamplingParams p, float[] logits, int steps)
    {
        var s = new Sampler(p, logits.Length, promptTokenIds: [1, 2, 3]);
        var r = new int[steps];
        for (int i = 0; i < steps; i++) r[i] = s.Sample(logits).TokenId;
        return r;
    }

    public static TheoryData<SamplingParams> Configs() => new()
    {
        new SamplingParams { Temperature = 1f },
        new SamplingParams { Temperature = 0.9f, TopP = 0.95f },
        new SamplingParams { Temperature = 1.2f, TopK = 100, TopP = 0.9f, MinP = 0.001f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.3f, PresencePenalty = 0.3f },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void SameSeed_RepeatsExactly_DifferentSeedsDiffer(SamplingParams p)
    {
        var logits = TestUtil.RandomLogits(5000, 1, 0f, 4f);
        var a = Run(p with { Seed = 1234 }, logits, 200);
        var b = Run(p with { Seed = 1234 }, logits, 200);
        var c = Run(p with { Seed = 1235 }, logits, 200);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.True(a.Zip(c).Count(x => x.First != x.Second) > 100);
    }

    [Fact]
    public void NoSeed_UsesRandomSeed_AndReportsIt()
    {
        var logits = TestUtil.RandomLogits(5000, 1, 0f, 4f);
        var s1 = new Sampler(new SamplingParams(), logits.Length);
        var s2 = new Sampler(new SamplingParams(), logits.Length);
        Assert.NotEqual(s1.Seed, s2.Seed);
        var replay = new Sampler(new SamplingParams { Seed = s1.Seed }, logits.Length);
        for (int i = 0; i < 50; i++) Assert.Equal(s1.Sample(logits).TokenId, replay.Sample(logits).TokenId);
    }

    [Fact]
    public void Prng_IsXoshiro256StarStar_SeededBySplitMix64()
    {
        // Golden values from an independent reference computation of SplitMix64 seeding + xoshiro256** (seed 0 and 42).
        var r0 = new Xoshiro256StarStar(0);
        Assert.Equal(0x99EC5F36CB75F2B4UL, r0.NextUInt64());
        Assert.Equal(0xBF6E1F784956452AUL, r0.NextUInt64());
        var r42 = new Xoshiro256StarStar(42);
        Assert.Equal(0x15780B2E0C2EC716UL, r42.NextUInt64());
        Assert.Equal(0x6104D9866D113A7EUL, r42.NextUInt64());
        // NextDouble is in [0, 1) with a sane mean.
        double sum = 0;
        for (int i = 0; i < 100_000; i++)
        {
            double d = r42.NextDouble();
            Assert.InRange(d, 0.0, 1.0 - double.Epsilon);
            sum += d;
        }
        Assert.InRange(sum / 100_000, 0.497, 0.503);
    }
}

public class StopAndLengthTests
{
    [Fact]
    public void EosStops_UnlessIgnored_StopTokenIdsAlwaysStop()
    {
        float[] logits = [0f, 0f, 5f, 0f];
        var s = new Sampler(SamplingParams.Greedy, 4, eosTokenIds: [2]);
        var r = s.Sample(logits);
        Assert.True(r.IsStopToken);
        Assert.Equal(FinishReason.Stop, r.FinishReason);
        Assert.True(s.IsStopToken(2));

        s = new Sampler(SamplingParams.Greedy with { IgnoreEos = true }, 4, eosTokenIds: [2]);
        r = s.Sample(logits);
        Assert.False(r.IsStopToken);
        Assert.Equal(FinishReason.None, r.FinishReason);

        s = new Sampler(SamplingParams.Greedy with { IgnoreEos = true, StopTokenIds = [2] }, 4, eosTokenIds: [3]);
        r = s.Sample(logits);
        Assert.True(r.IsStopToken);
        Assert.False(s.IsStopToken(3));
        Assert.False(s.IsStopToken(0));
    }

    [Fact]
    public void MaxTokens_ReportsLength()
    {
        float[] logits = [1f, 0f];
        var s = new Sampler(SamplingParams.Greedy with { MaxTokens = 3 }, 2);
        Assert.Equal(FinishReason.None, s.Sample(logits).FinishReason);
        Assert.Equal(FinishReason.None, s.Sample(logits).FinishReason);
        Assert.Equal(FinishReason.Length, s.Sample(logits).FinishReason);
    }

    [Fact]
    public void StopTakesPrecedenceOverLength()
    {
        var s = new Sampler(SamplingParams.Greedy with { MaxTokens = 1 }, 2, eosTokenIds: [0]);
        Assert.Equal(FinishReason.Stop, s.Sample([1f, 0f]).FinishReason);
    }

    [Fact]
    public void MinTokens_SuppressesEosAndStopIds_ThenAllowsThem()
    {
        float[] logits = [5f, 4f, 1f, 0f]; // eos = 0, stop id = 1
        var s = new Sampler(SamplingParams.Greedy with { MinTokens = 2, StopTokenIds = [1] }, 4, eosTokenIds: [0]);
        Assert.Equal(2, s.Sample(logits).TokenId);
        Assert.Equal(2, s.Sample(logits).TokenId);
        var r = s.Sample(logits);
        Assert.Equal(0, r.TokenId);
        Assert.Equal(FinishReason.Stop, r.FinishReason);

        var counts = new int[4];
        var rs = new Sampler(new SamplingParams { MinTokens = 1000, Seed = 1 }, 4, eosTokenIds: [0]);
        for (int i = 0; i < 1000; i++) counts[rs.Sample(logits).TokenId]++;
        Assert.Equal(0, counts[0]);
    }
}

public class SequenceHistoryTests
{
    [Fact]
    public void TracksDistinctTokensAndCounts()
    {
        var h = new SequenceHistory(100, [5, 6, 5]);
        Assert.Equal(3, h.PromptLength);
        Assert.Equal([5, 6], h.DistinctTokenIds.ToArray());
        Assert.Equal(0, h.DistinctOutputTokenIds.Length);
        foreach (int t in new[] { 6, 7, 6, 6, 9 }) h.Append(t);
        Assert.Equal([6, 7, 6, 6, 9], h.OutputTokenIds.ToArray());
        Assert.Equal([5, 6, 7, 9], h.DistinctTokenIds.ToArray());
        Assert.Equal([6, 7, 9], h.DistinctOutputTokenIds.ToArray());
        Assert.Equal([3, 1, 1], h.DistinctOutputCounts.ToArray());
        Assert.Equal(0, h.OutputCount(5));
        Assert.Equal(3, h.OutputCount(6));
        Assert.True(h.Contains(5));
        Assert.False(h.Contains(8));
        Assert.Throws<ArgumentOutOfRangeException>(() => h.Append(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SequenceHistory(10, [10]));
    }

    [Fact]
    public void ManyAppends_GrowCorrectly()
    {
        var h = new SequenceHistory(1000, []);
        for (int i = 0; i < 10_000; i++) h.Append(i % 700);
        Assert.Equal(10_000, h.OutputLength);
        Assert.Equal(700, h.DistinctOutputTokenIds.Length);
        Assert.Equal(15, h.OutputCount(0));
        Assert.Equal(14, h.OutputCount(699));
    }
}
