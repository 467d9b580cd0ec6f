using DeepSeekMesh.Sampling;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace DeepSeekMesh.Contracts.Tests;

/// <summary>Sampling parameters cross the Orleans wire whole (in-process grain calls skip serialization, so this is the check).</summary>
public sealed class SamplingParamsWireTests
{
    [Fact]
    public void RoundTripKeepsEveryField()
    {
        using var services = new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(Serialization.SamplingParamsSurrogate).Assembly)).BuildServiceProvider();
        var serializer = services.GetRequiredService<Serializer>();
        var sampling = new SamplingParams
        {
            Temperature = 0.7f, TopP = 0.9f, TopK = 5, MinP = 0.1f, RepetitionPenalty = 1.1f, FrequencyPenalty = 0.2f, PresencePenalty = -0.3f,
            LogitBias = new Dictionary<int, float> { [3] = 2f }, Seed = 77, MaxTokens = 40, MinTokens = 0, StopTokenIds = [9, 10],
            IgnoreEos = true, Logprobs = 3, JsonSchema = """{"type":"object","properties":{"a":{"type":"integer"}}}""",
        };
        var back = serializer.Deserialize<SamplingParams>(serializer.SerializeToArray(sampling))!;
        Assert.Equal(sampling.JsonSchema, back.JsonSchema);
        Assert.Equal(sampling with { LogitBias = null, StopTokenIds = [] }, back with { LogitBias = null, StopTokenIds = [] });
        Assert.Equal(sampling.LogitBias, back.LogitBias);
        Assert.Equal(sampling.StopTokenIds, back.StopTokenIds);
    }
}
