using System.Text.Json;
using System.Text.Json.Serialization;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>Chat logprobs: <c>{"content":[{"token","logprob","bytes","top_logprobs":[…]}],"refusal":null}</c>.</summary>
public sealed record ChatLogprobs([property: JsonPropertyName("content")] IReadOnlyList<ChatTokenLogprob> Content)
{
    [JsonPropertyName("refusal")] public string? Refusal => null;

    public static ChatLogprobs From(IEnumerable<TokenLogprobInfo> tokens) => new(tokens.Select(ChatTokenLogprob.From).ToArray());

    /// <summary>A logprob as JSON: -inf (a token the model gives no mass) as -9999.0, as vLLM does; NaN as null.</summary>
    public static double? Number(float value) =>
        float.IsNaN(value) ? null : float.IsNegativeInfinity(value) ? -9999.0 : Math.Round(value, 6);

    public static int[] Bytes(byte[] bytes) => bytes.Select(b => (int)b).ToArray();
}

/// <summary>One chat token's logprob with its alternatives.</summary>
public sealed record ChatTokenLogprob(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("logprob")] double? Logprob,
    [property: JsonPropertyName("bytes")] int[] Bytes,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<ChatTopLogprob> TopLogprobs)
{
    public static ChatTokenLogprob From(TokenLogprobInfo t) => new(t.Token, ChatLogprobs.Number(t.Logprob), ChatLogprobs.Bytes(t.Bytes),
        t.Top.Select(a => new ChatTopLogprob(a.Token, ChatLogprobs.Number(a.Logprob), ChatLogprobs.Bytes(a.Bytes))).ToArray());
}

/// <summary>One alternative of a chat token.</summary>
public sealed record ChatTopLogprob(
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("logprob")] double? Logprob,
    [property: JsonPropertyName("bytes")] int[] Bytes);

/// <summary>
/// Legacy completions logprobs: <c>{"tokens","token_logprobs","top_logprobs","text_offset"}</c>; prompt
/// tokens (echo) have null logprobs; each top_logprobs entry is an object from token text to logprob.
/// </summary>
public sealed record CompletionLogprobs(
    [property: JsonPropertyName("tokens")] IReadOnlyList<string> Tokens,
    [property: JsonPropertyName("token_logprobs")] IReadOnlyList<double?> TokenLogprobs,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<TopLogprobs?> TopLogprobs,
    [property: JsonPropertyName("text_offset")] IReadOnlyList<int> TextOffset)
{
    /// <summary>The logprobs of <paramref name="tokens"/> (text and, for generated ones, info) whose text starts at <paramref name="startOffset"/>.</summary>
    public static CompletionLogprobs From(IReadOnlyList<(string Token, TokenLogprobInfo? Info)> tokens, int startOffset)
    {
        var offsets = new int[tokens.Count];
        for (int i = 0, offset = startOffset; i < tokens.Count; offset += tokens[i].Token.Length, i++) offsets[i] = offset;
        return new(tokens.Select(t => t.Token).ToArray(),
            tokens.Select(t => t.Info is null ? null : ChatLogprobs.Number(t.Info.Logprob)).ToArray(),
            tokens.Select(t => t.Info is null ? null : new TopLogprobs(t.Info.Top.Select(a => (a.Token, ChatLogprobs.Number(a.Logprob))).ToArray())).ToArray(),
            offsets);
    }
}

/// <summary>A legacy top_logprobs entry: a JSON object from token text to logprob, in rank order (texts may repeat).</summary>
[JsonConverter(typeof(TopLogprobsConverter))]
public sealed record TopLogprobs(IReadOnlyList<(string Token, double? Logprob)> Items);

/// <summary>Writes <see cref="TopLogprobs"/> as one object.</summary>
public sealed class TopLogprobsConverter : JsonConverter<TopLogprobs>
{
    public override TopLogprobs Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException();

    public override void Write(Utf8JsonWriter writer, TopLogprobs value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (token, logprob) in value.Items)
        {
            if (logprob is { } l) writer.WriteNumber(token, l);
            else writer.WriteNull(token);
        }
        writer.WriteEndObject();
    }
}
