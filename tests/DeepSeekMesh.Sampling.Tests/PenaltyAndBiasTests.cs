using DeepSeekMesh.Sampling.Processors;

namespace DeepSeekMesh.Sampling.Tests;

public class PenaltyAndBiasTests
{
    private static float[] Base() => [1.0f, 2.0f, -1.0f, 0.5f, 3.0f, -2.0f, 0.0f, 4.0f];

    private static SequenceHistory History(int[] prompt, int[] output)
    {
        var h = new SequenceHistory(8, prompt);
        foreach (int t in output) h.Append(t);
        return h;
    }

    [Fact]
    public void RepetitionPenalty_DividesPositive_MultipliesNegative_OverPromptAndOutput()
    {
        var h = History(prompt: [1, 2, 1], output: [3, 6, 3]);
        var state = new LogitsState(Base());
        new RepetitionPenaltyProcessor(2f).Apply(state, h);
        float[] expected = [1.0f, 1.0f, -2.0f, 0.25f, 3.0f, -2.0f, 0.0f, 4.0f];
        //                  unseen prompt  prompt   output unseen unseen output unseen
        Assert.Equal(expected, state.Logits.ToArray());

        // Penalty < 1 encourages: positive logits grow, negative shrink in magnitude.
        state = new LogitsState(Base());
        new RepetitionPenaltyProcessor(0.5f).Apply(state, h);
        Assert.Equal([1.0f, 4.0f, -0.5f, 1.0f, 3.0f, -2.0f, 0.0f, 4.0f], state.Logits.ToArray());
    }

    [Fact]
    public void RepetitionPenalty_AppliesOncePerToken_NotPerOccurrence()
    {
        var once = History([4], [4]);
        var many = History([4, 4, 4], [4, 4]);
        var a = new LogitsState(Base());
        var b = new LogitsState(Base());
        new RepetitionPenaltyProcessor(1.5f).Apply(a, once);
        new RepetitionPenaltyProcessor(1.5f).Apply(b, many);
        Assert.Equal(2.0f, a.Logits[4]);
        Assert.Equal(a.Logits.ToArray(), b.Logits.ToArray());
    }

    [Fact]
    public void FrequencyPenalty_IsProportionalToOutputCount_AndIgnoresPrompt()
    {
        var h = History(prompt: [0, 0, 7], output: [3, 3, 3, 5, 7]);
        var state = new LogitsState(Base());
        new FrequencyPenaltyProcessor(0.5f).Apply(state, h);
        var expected = Base();
        expected[3] -= 1.5f; // 3 occurrences
        expected[5] -= 0.5f;
        expected[7] -= 0.5f; // once in output; the prompt occurrence does not count
        Assert.Equal(expected, state.Logits.ToArray());
    }

    [Fact]
    public void PresencePenalty_AppliesOnceForGeneratedTokens_AndIgnoresPrompt()
    {
        var h = History(prompt: [0, 1], output: [3, 3, 3, 5]);
        var state = new LogitsState(Base());
        new PresencePenaltyProcessor(0.7f).Apply(state, h);
        var expected = Base();
        expected[3] -= 0.7f;
        expected[5] -= 0.7f;
        Assert.Equal(expected, state.Logits.ToArray());

        // Negative presence penalty encourages.
        state = new LogitsState(Base());
        new PresencePenaltyProcessor(-1f).Apply(state, h);
        Assert.Equal(Base()[3] + 1f, state.Logits[3]);
    }

    [Fact]
    public void Penalties_ThroughSampler_TrackSampledTokens()
    {
        // Greedy with a presence penalty of 2 over nearly flat logits cycles through tokens instead of repeating.
        float[] logits = [1.0f, 0.9f, 0.8f, 0.7f];
        var s = new Sampler(new SamplingParams { Temperature = 0f, PresencePenalty = 2f }, 4);
        var got = Enumerable.Range(0, 4).Select(_ => s.Sample(logits).TokenId).ToArray();
        Assert.Equal([0, 1, 2, 3], got);
        Assert.Equal([0, 1, 2, 3], s.History.OutputTokenIds.ToArray());

        // Frequency penalty: token 0 (lead 0.25) is repeated until its count outweighs the lead.
        logits = [1.25f, 1.0f];
        s = new Sampler(new SamplingParams { Temperature = 0f, FrequencyPenalty = 0.2f }, 2);
        got = Enumerable.Range(0, 4).Select(_ => s.Sample(logits).TokenId).ToArray();
        Assert.Equal([0, 0, 1, 0], got); // 1.25, 1.05 > 1.0; then 0.85 < 1.0; then 0.85 vs 0.8

        // Repetition penalty counts the prompt: prompt token 0 is penalized from the first step.
        logits = [2.0f, 1.5f];
        s = new Sampler(new SamplingParams { Temperature = 0f, RepetitionPenalty = 1.5f }, 2, promptTokenIds: [0]);
        Assert.Equal(1, s.Sample(logits).TokenId); // 2.0/1.5 = 1.33 < 1.5
    }

    [Fact]
    public void Penalties_OrderIsRepetitionThenFrequencyThenPresence()
    {
        var procs = Sampler.BuildProcessors(new SamplingParams
        {
            Temperature = 0.7f, TopK = 5, TopP = 0.9f, MinP = 0.1f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.1f,
            PresencePenalty = 0.1f, LogitBias = new Dictionary<int, float> { [1] = 1f }, MinTokens = 2,
        }, [0]);
        Assert.Equal(
            [typeof(MinTokensProcessor), typeof(LogitBiasProcessor), typeof(RepetitionPenaltyProcessor), typeof(FrequencyPenaltyProcessor),
             typeof(PresencePenaltyProcessor), typeof(TemperatureProcessor), typeof(MinPProcessor), typeof(TopKProcessor), typeof(TopPProcessor)],
            procs.Select(p => p.GetType()).ToArray());
        // Defaults add nothing.
        Assert.Empty(Sampler.BuildProcessors(new SamplingParams(), [0]));
    }

    [Fact]
    public void LogitBias_IsAddedToLogit()
    {
        var state = new LogitsState(Base());
        new LogitBiasProcessor(new Dictionary<int, float> { [2] = 5f, [7] = -1.5f }).Apply(state, History([], []));
        var expected = Base();
        expected[2] += 5f;
        expected[7] -= 1.5f;
        Assert.Equal(expected, state.Logits.ToArray());
    }

    [Fact]
    public void LogitBias_Minus100_BansToken()
    {
        var logits = Base();
        var greedy = new Sampler(new SamplingParams { Temperature = 0f, LogitBias = new Dictionary<int, float> { [7] = -100f } }, 8);
        Assert.Equal(4, greedy.Sample(logits).TokenId);

        var counts = TestUtil.Histogram(new SamplingParams { Seed = 8, LogitBias = new Dictionary<int, float> { [7] = -100f, [4] = -100f } }, logits, 50_000);
        Assert.Equal(0, counts[7]);
        Assert.Equal(0, counts[4]);
        Assert.True(counts[1] > 0);
    }

    [Fact]
    public void LogitBias_Plus100_ForcesToken()
    {
        var logits = Base();
        var greedy = new Sampler(new SamplingParams { Temperature = 0f, LogitBias = new Dictionary<int, float> { [5] = 100f } }, 8);
        Assert.Equal(5, greedy.Sample(logits).TokenId);
        var counts = TestUtil.Histogram(new SamplingParams { Seed = 8, Temperature = 1.5f, LogitBias = new Dictionary<int, float> { [5] = 100f } }, logits, 20_000);
        Assert.Equal(20_000, counts[5]);
    }

    [Fact]
    public void LogitBias_DoesNotChangeLogprobs_WhichUseRawLogits()
    {
        var logits = Base();
        var s = new Sampler(new SamplingParams { Temperature = 0f, Logprobs = 1, LogitBias = new Dictionary<int, float> { [5] = 100f } }, 8);
        var r = s.Sample(logits);
        Assert.Equal(5, r.TokenId);
        Assert.Equal(TestUtil.LogSoftmax(logits)[5], r.Logprob, 5);
        Assert.Equal(7, r.TopLogprobs[0].TokenId);
        Assert.Equal(8, r.Rank); // the least likely raw token
    }
}
