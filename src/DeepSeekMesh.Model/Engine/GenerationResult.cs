using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Model.Engine;

/// <summary>What one sequence produced: tokens, optional raw logits per token, why it stopped.</summary>
public sealed record GenerationResult(IReadOnlyList<SampledToken> Tokens, IReadOnlyList<float[]>? Logits, FinishReason FinishReason);
