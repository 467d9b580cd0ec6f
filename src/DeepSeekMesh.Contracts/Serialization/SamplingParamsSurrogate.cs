using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Contracts.Serialization;

/// <summary>
/// The wire layout of <see cref="SamplingParams"/> (the sampling library stays free of Orleans):
/// code never builds one; <see cref="SamplingParamsConverter"/> maps it at the serializer's edge.
/// </summary>
[GenerateSerializer, Immutable, Alias("dsm.SamplingParams")]
public struct SamplingParamsSurrogate
{
    [Id(0)] public float Temperature;
    [Id(1)] public float TopP;
    [Id(2)] public int TopK;
    [Id(3)] public float MinP;
    [Id(4)] public float RepetitionPenalty;
    [Id(5)] public float FrequencyPenalty;
    [Id(6)] public float PresencePenalty;
    [Id(7)] public Dictionary<int, float>? LogitBias;
    [Id(8)] public ulong? Seed;
    [Id(9)] public int? MaxTokens;
    [Id(10)] public int MinTokens;
    [Id(11)] public int[] StopTokenIds;
    [Id(12)] public bool IgnoreEos;
    [Id(13)] public int? Logprobs;
    [Id(14)] public string? JsonSchema;
}

/// <summary>Lets <see cref="SamplingParams"/> cross the wire as itself.</summary>
[RegisterConverter]
public sealed class SamplingParamsConverter : IConverter<SamplingParams, SamplingParamsSurrogate>
{
    public SamplingParams ConvertFromSurrogate(in SamplingParamsSurrogate s) => new()
    {
        Temperature = s.Temperature,
        TopP = s.TopP,
        TopK = s.TopK,
        MinP = s.MinP,
        RepetitionPenalty = s.RepetitionPenalty,
        FrequencyPenalty = s.FrequencyPenalty,
        PresencePenalty = s.PresencePenalty,
        LogitBias = s.LogitBias,
        Seed = s.Seed,
        MaxTokens = s.MaxTokens,
        MinTokens = s.MinTokens,
        StopTokenIds = s.StopTokenIds ?? [],
        IgnoreEos = s.IgnoreEos,
        Logprobs = s.Logprobs,
        JsonSchema = s.JsonSchema,
    };

    public SamplingParamsSurrogate ConvertToSurrogate(in SamplingParams p) => new()
    {
        Temperature = p.Temperature,
        TopP = p.TopP,
        TopK = p.TopK,
        MinP = p.MinP,
        RepetitionPenalty = p.RepetitionPenalty,
        FrequencyPenalty = p.FrequencyPenalty,
        PresencePenalty = p.PresencePenalty,
        LogitBias = p.LogitBias is null ? null : new Dictionary<int, float>(p.LogitBias),
        Seed = p.Seed,
        MaxTokens = p.MaxTokens,
        MinTokens = p.MinTokens,
        StopTokenIds = p.StopTokenIds.ToArray(),
        IgnoreEos = p.IgnoreEos,
        Logprobs = p.Logprobs,
        JsonSchema = p.JsonSchema,
    };
}

/// <summary><see cref="SamplingParams"/> is immutable: no copy.</summary>
[RegisterCopier]
public sealed class SamplingParamsCopier : ImmutableCopier<SamplingParams>;
