namespace DeepSeekMesh.Model.Engine;

/// <summary>Wall-clock split of a generation: prefill, then decode steps over the KV cache.</summary>
public sealed record GenerationTiming(double PrefillSeconds, double DecodeSeconds, int DecodeTokens)
{
    /// <summary>Tokens per second over the decode steps (all tokens after each sequence's first).</summary>
    public double DecodeTokensPerSecond => DecodeSeconds > 0 ? DecodeTokens / DecodeSeconds : 0;
}
