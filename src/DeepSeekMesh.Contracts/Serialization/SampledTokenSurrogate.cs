using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Contracts.Serialization;

/// <summary>
/// The wire layout of <see cref="SampledToken"/> (with its <see cref="FinishReason"/> and
/// <see cref="TokenLogprob"/>s); <see cref="SampledTokenConverter"/> maps it at the serializer's edge.
/// </summary>
[GenerateSerializer, Immutable, Alias("dsm.SampledToken")]
public struct SampledTokenSurrogate
{
    [Id(0)] public int TokenId;
    [Id(1)] public float Logprob;
    [Id(2)] public int Rank;
    /// <summary>Alternatives' token ids and logprobs, in order.</summary>
    [Id(3)] public int[] TopTokenIds;
    [Id(4)] public float[] TopLogprobs;
    [Id(5)] public bool IsStopToken;
    [Id(6)] public byte FinishReason;
    /// <summary>Prompt tokens read from the prefix cache (a sequence's first token only).</summary>
    [Id(7)] public int CachedPromptTokens;
}

/// <summary>Lets <see cref="SampledToken"/> stream from the completion grain as itself.</summary>
[RegisterConverter]
public sealed class SampledTokenConverter : IConverter<SampledToken, SampledTokenSurrogate>
{
    public SampledToken ConvertFromSurrogate(in SampledTokenSurrogate s)
    {
        var ids = s.TopTokenIds ?? [];
        var top = new TokenLogprob[ids.Length];
        for (int i = 0; i < top.Length; i++) top[i] = new TokenLogprob(ids[i], s.TopLogprobs[i]);
        return new SampledToken
        {
            TokenId = s.TokenId,
            Logprob = s.Logprob,
            Rank = s.Rank,
            TopLogprobs = top,
            IsStopToken = s.IsStopToken,
            FinishReason = (FinishReason)s.FinishReason,
            CachedPromptTokens = s.CachedPromptTokens,
        };
    }

    public SampledTokenSurrogate ConvertToSurrogate(in SampledToken t)
    {
        var top = t.TopLogprobs;
        var ids = new int[top.Count];
        var logprobs = new float[top.Count];
        for (int i = 0; i < ids.Length; i++) (ids[i], logprobs[i]) = (top[i].TokenId, top[i].Logprob);
        return new SampledTokenSurrogate
        {
            TokenId = t.TokenId,
            Logprob = t.Logprob,
            Rank = t.Rank,
            TopTokenIds = ids,
            TopLogprobs = logprobs,
            IsStopToken = t.IsStopToken,
            FinishReason = (byte)t.FinishReason,
            CachedPromptTokens = t.CachedPromptTokens,
        };
    }
}

/// <summary><see cref="SampledToken"/> is immutable: no copy.</summary>
[RegisterCopier]
public sealed class SampledTokenCopier : ImmutableCopier<SampledToken>;
