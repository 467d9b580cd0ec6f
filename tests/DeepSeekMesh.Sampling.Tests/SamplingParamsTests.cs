namespace DeepSeekMesh.Sampling.Tests;

public class SamplingParamsTests
{
    private const int Vocab = 1000;

    [Fact]
    public void Defaults_MatchOpenAiAndVllm()
    {
        var p = new SamplingParams();
        Assert.Equal(1f, p.Temperature);
        Assert.Equal(1f, p.TopP);
        Assert.Equal(0, p.TopK);
        Assert.Equal(0f, p.MinP);
        Assert.Equal(1f, p.RepetitionPenalty);
        Assert.Equal(0f, p.FrequencyPenalty);
        Assert.Equal(0f, p.PresencePenalty);
        Assert.Null(p.LogitBias);
        Assert.Null(p.Seed);
        Assert.Null(p.MaxTokens);
        Assert.Equal(0, p.MinTokens);
        Assert.Empty(p.StopTokenIds);
        Assert.False(p.IgnoreEos);
        Assert.Null(p.Logprobs);
        Assert.False(p.IsGreedy);
        p.Validate(Vocab);
    }

    public static TheoryData<string, SamplingParams, string> Invalid() => new()
    {
        { "temperature", new SamplingParams { Temperature = -0.1f }, "[0, 2]" },
        { "temperature", new SamplingParams { Temperature = 2.5f }, "[0, 2]" },
        { "temperature", new SamplingParams { Temperature = float.NaN }, "[0, 2]" },
        { "top_p", new SamplingParams { TopP = 0f }, "(0, 1]" },
        { "top_p", new SamplingParams { TopP = 1.01f }, "(0, 1]" },
        { "top_p", new SamplingParams { TopP = -0.5f }, "(0, 1]" },
        { "top_k", new SamplingParams { TopK = -2 }, "at least 1" },
        { "min_p", new SamplingParams { MinP = -0.01f }, "[0, 1]" },
        { "min_p", new SamplingParams { MinP = 1.5f }, "[0, 1]" },
        { "repetition_penalty", new SamplingParams { RepetitionPenalty = 0f }, "greater than 0" },
        { "repetition_penalty", new SamplingParams { RepetitionPenalty = -1f }, "greater than 0" },
        { "repetition_penalty", new SamplingParams { RepetitionPenalty = float.PositiveInfinity }, "greater than 0" },
        { "frequency_penalty", new SamplingParams { FrequencyPenalty = 2.01f }, "[-2, 2]" },
        { "frequency_penalty", new SamplingParams { FrequencyPenalty = -3f }, "[-2, 2]" },
        { "presence_penalty", new SamplingParams { PresencePenalty = 2.5f }, "[-2, 2]" },
        { "presence_penalty", new SamplingParams { PresencePenalty = -2.01f }, "[-2, 2]" },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = 101f } }, "[-100, 100]" },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [5] = -100.5f } }, "[-100, 100]" },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [Vocab] = 1f } }, "[0, 999]" },
        { "logit_bias", new SamplingParams { LogitBias = new Dictionary<int, float> { [-1] = 1f } }, "[0, 999]" },
        { "logprobs", new SamplingParams { Logprobs = 21 }, "[0, 20]" },
        { "logprobs", new SamplingParams { Logprobs = -1 }, "[0, 20]" },
        { "max_tokens", new SamplingParams { MaxTokens = 0 }, "at least 1" },
        { "min_tokens", new SamplingParams { MinTokens = -1 }, "at least 0" },
        { "min_tokens", new SamplingParams { MaxTokens = 4, MinTokens = 5 }, "max_tokens=4" },
        { "stop_token_ids", new SamplingParams { StopTokenIds = [3, Vocab] }, "[0, 999]" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Validate_RejectsInvalid_NamingParameterAndRange(string name, SamplingParams p, string range)
    {
        var ex = Assert.Throws<SamplingParamsException>(() => p.Validate(Vocab));
        Assert.Equal(name, ex.ParameterName);
        Assert.StartsWith(name, ex.Message, StringComparison.Ordinal);
        Assert.Contains(range, ex.Message, StringComparison.Ordinal);
        // The sampler refuses them too.
        Assert.Throws<SamplingParamsException>(() => new Sampler(p, Vocab));
    }

    public static TheoryData<SamplingParams> ValidEdges() => new()
    {
        new SamplingParams { Temperature = 0f },
        new SamplingParams { Temperature = 2f },
        new SamplingParams { TopP = 1e-6f },
        new SamplingParams { TopP = 1f },
        new SamplingParams { TopK = -1 },
        new SamplingParams { TopK = 0 },
        new SamplingParams { TopK = 1 },
        new SamplingParams { TopK = 5 * Vocab },
        new SamplingParams { MinP = 0f },
        new SamplingParams { MinP = 1f },
        new SamplingParams { RepetitionPenalty = 1e-3f },
        new SamplingParams { RepetitionPenalty = 5f },
        new SamplingParams { FrequencyPenalty = -2f, PresencePenalty = 2f },
        new SamplingParams { FrequencyPenalty = 2f, PresencePenalty = -2f },
        new SamplingParams { LogitBias = new Dictionary<int, float> { [0] = -100f, [Vocab - 1] = 100f } },
        new SamplingParams { Logprobs = 0 },
        new SamplingParams { Logprobs = 20 },
        new SamplingParams { MaxTokens = 1 },
        new SamplingParams { MaxTokens = 3, MinTokens = 3 },
        new SamplingParams { Seed = ulong.MaxValue, StopTokenIds = [0, Vocab - 1], IgnoreEos = true },
    };

    [Theory]
    [MemberData(nameof(ValidEdges))]
    public void Validate_AcceptsBoundaryValues(SamplingParams p)
    {
        p.Validate(Vocab);
        _ = new Sampler(p, Vocab);
    }

    [Fact]
    public void Record_IsImmutable_WithCopies()
    {
        var a = new SamplingParams { Temperature = 0.7f };
        var b = a with { TopK = 5 };
        Assert.Equal(0, a.TopK);
        Assert.Equal(5, b.TopK);
        Assert.Equal(0.7f, b.Temperature);
    }
}
