using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>OpenAI's <c>stream_options</c> (only with <c>stream: true</c>).</summary>
public sealed record StreamOptions
{
    /// <summary>Send a last chunk with the usage (and a <c>usage: null</c> field on every other chunk).</summary>
    [JsonPropertyName("include_usage")] public bool? IncludeUsage { get; init; }
}
