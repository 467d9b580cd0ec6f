using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>OpenAI's <c>usage.prompt_tokens_details</c>: prompt tokens a frontend read from its prefix cache instead of computing.</summary>
public sealed record PromptTokensDetails([property: JsonPropertyName("cached_tokens")] int CachedTokens);
