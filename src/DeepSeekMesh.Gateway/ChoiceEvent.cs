namespace DeepSeekMesh.Gateway;

/// <summary>What one choice produced since its last event: a text delta (possibly empty), logprobs, and at the end the finish reason.</summary>
public sealed record ChoiceEvent(int Index, string Text, TokenLogprobInfo? Logprob, string? FinishReason, int CompletionTokens);
