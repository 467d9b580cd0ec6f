namespace DeepSeekMesh.Gateway;

/// <summary>
/// What one choice produced since its last event: a text delta (possibly empty), logprobs, and at the end the finish reason;
/// <paramref name="CachedTokens"/>: the prompt tokens its frontend read from the prefix cache.
/// </summary>
public sealed record ChoiceEvent(int Index, string Text, TokenLogprobInfo? Logprob, string? FinishReason, int CompletionTokens, int CachedTokens = 0);
