using DeepSeekMesh.Sampling;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace DeepSeekMesh.Contracts.Tests;

/// <summary>A sampled token crosses the Orleans wire whole: the prefix cache's reuse (on a first token) included.</summary>
public sealed class SampledTokenWireTests
{
    [Fact]
    public void RoundTripKeepsEveryField()
    {
        using var services = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(Serialization.SampledTokenSurrogate).Assembly)).BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var token = new SampledToken
        {
            TokenId = 42, Logprob = -0.5f, Rank = 2, TopLogprobs = [new TokenLogprob(7, -0.1f)], IsStopToken = true,
            FinishReason = FinishReason.Length, CachedPromptTokens = 1984,
        };
        var back = serializer.Deserialize<SampledToken>(serializer.SerializeToArray(token));
        Assert.Equal(1984, back.CachedPromptTokens);
        Assert.Equal((token.TokenId, token.Logprob, token.Rank, token.IsStopToken, token.FinishReason), (back.TokenId, back.Logprob, back.Rank, back.IsStopToken, back.FinishReason));
        Assert.Equal(token.TopLogprobs, back.TopLogprobs);
    }
}
