using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>OpenAI's <c>usage</c>: tokens of the prompts and of every choice, and how many prompt tokens came from the prefix cache.</summary>
public sealed record Usage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("prompt_tokens_details")] PromptTokensDetails? PromptTokensDetails = null)
{
    [JsonPropertyName("total_tokens")] public int TotalTokens => PromptTokens + CompletionTokens;

    /// <summary>The usage of <paramref name="job"/>: <paramref name="cachedOfChoice"/> gives each choice's cached prompt tokens (by choice index).</summary>
    public static Usage Of(GenerationJob job, int completionTokens, Func<int, int> cachedOfChoice) =>
        new(job.PromptTokens, completionTokens, new PromptTokensDetails(job.CachedPromptTokens(cachedOfChoice)));
}

/// <summary>
/// A chunk's <c>usage</c> field: absent (default) without <c>stream_options.include_usage</c>;
/// with it, <c>null</c> on every chunk but the last, which carries the usage.
/// </summary>
[JsonConverter(typeof(UsageFieldConverter))]
public readonly record struct UsageField(bool Present, Usage? Value)
{
    public static UsageField For(bool includeUsage, Usage? usage = null) => includeUsage || usage is not null ? new(true, usage) : default;
}

/// <summary>Writes a present <see cref="UsageField"/> as its usage or null (an absent one is skipped by its property's ignore condition).</summary>
public sealed class UsageFieldConverter : JsonConverter<UsageField>
{
    public override UsageField Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

    public override void Write(Utf8JsonWriter writer, UsageField value, JsonSerializerOptions options)
    {
        if (value.Value is null) writer.WriteNullValue();
        else JsonSerializer.Serialize(writer, value.Value, ProtocolJson.Default.Usage);
    }
}
