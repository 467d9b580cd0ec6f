using System.Text;
using System.Text.Json;

namespace DeepSeekMesh.Gateway;

/// <summary>What one choice produced, for a non-streamed response.</summary>
public sealed class ChoiceResult(int index)
{
    public int Index { get; } = index;
    public StringBuilder Text { get; } = new();
    public List<TokenLogprobInfo> Logprobs { get; } = [];
    public string FinishReason { get; set; } = "stop";
    public int CompletionTokens { get; set; }

    public void Add(ChoiceEvent e)
    {
        Text.Append(e.Text);
        if (e.Logprob is not null) Logprobs.Add(e.Logprob);
        CompletionTokens = e.CompletionTokens;
        if (e.FinishReason is not null) FinishReason = e.FinishReason;
    }
}

/// <summary>The JSON objects of OpenAI's chat completions and legacy completions APIs, written directly.</summary>
public static class Shapes
{
    static void Header(Utf8JsonWriter w, string id, string obj, long created, string model)
    {
        w.WriteString("id", id);
        w.WriteString("object", obj);
        w.WriteNumber("created", created);
        w.WriteString("model", model);
    }

    public static void Usage(Utf8JsonWriter w, int prompt, int completion)
    {
        w.WriteStartObject("usage");
        w.WriteNumber("prompt_tokens", prompt);
        w.WriteNumber("completion_tokens", completion);
        w.WriteNumber("total_tokens", prompt + completion);
        w.WriteEndObject();
    }

    static void Bytes(Utf8JsonWriter w, byte[] bytes)
    {
        w.WriteStartArray("bytes");
        foreach (var b in bytes) w.WriteNumberValue(b);
        w.WriteEndArray();
    }

    /// <summary>Chat logprobs: <c>{"content":[{"token","logprob","bytes","top_logprobs":[…]}]}</c>.</summary>
    static void ChatLogprobs(Utf8JsonWriter w, IEnumerable<TokenLogprobInfo> tokens)
    {
        w.WriteStartObject("logprobs");
        w.WriteStartArray("content");
        foreach (var t in tokens)
        {
            w.WriteStartObject();
            w.WriteString("token", t.Token);
            w.WriteLogprob("logprob", t.Logprob);
            Bytes(w, t.Bytes);
            w.WriteStartArray("top_logprobs");
            foreach (var (token, bytes, logprob) in t.Top)
            {
                w.WriteStartObject();
                w.WriteString("token", token);
                w.WriteLogprob("logprob", logprob);
                Bytes(w, bytes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteNull("refusal");
        w.WriteEndObject();
    }

    /// <summary>One <c>chat.completion.chunk</c> with one choice (null <paramref name="index"/>: the usage chunk, no choices).</summary>
    public static void ChatChunk(Utf8JsonWriter w, string id, long created, string model, int? index, bool role, string? content,
        TokenLogprobInfo? logprob, string? finish, bool usageField, (int Prompt, int Completion)? usage = null)
    {
        w.WriteStartObject();
        Header(w, id, "chat.completion.chunk", created, model);
        w.WriteStartArray("choices");
        if (index is { } i)
        {
            w.WriteStartObject();
            w.WriteNumber("index", i);
            w.WriteStartObject("delta");
            if (role) w.WriteString("role", "assistant");
            if (content is not null) w.WriteString("content", content);
            w.WriteEndObject();
            if (logprob is null) w.WriteNull("logprobs");
            else ChatLogprobs(w, [logprob]);
            if (finish is null) w.WriteNull("finish_reason"); else w.WriteString("finish_reason", finish);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (usage is { } u) Usage(w, u.Prompt, u.Completion);
        else if (usageField) w.WriteNull("usage");
        w.WriteEndObject();
    }

    public static void ChatCompletion(Utf8JsonWriter w, string id, long created, string model, IReadOnlyList<ChoiceResult> choices, bool logprobs, int promptTokens)
    {
        w.WriteStartObject();
        Header(w, id, "chat.completion", created, model);
        w.WriteStartArray("choices");
        foreach (var c in choices)
        {
            w.WriteStartObject();
            w.WriteNumber("index", c.Index);
            w.WriteStartObject("message");
            w.WriteString("role", "assistant");
            w.WriteString("content", c.Text.ToString());
            w.WriteNull("refusal");
            w.WriteEndObject();
            if (logprobs) ChatLogprobs(w, c.Logprobs); else w.WriteNull("logprobs");
            w.WriteString("finish_reason", c.FinishReason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Usage(w, promptTokens, choices.Sum(c => c.CompletionTokens));
        w.WriteEndObject();
    }

    /// <summary>Legacy logprobs: <c>{"tokens","token_logprobs","top_logprobs","text_offset"}</c>; prompt tokens (echo) have null logprobs.</summary>
    static void TextLogprobs(Utf8JsonWriter w, IReadOnlyList<(string Token, TokenLogprobInfo? Info)> tokens, int startOffset)
    {
        w.WriteStartObject("logprobs");
        w.WriteStartArray("tokens");
        foreach (var t in tokens) w.WriteStringValue(t.Token);
        w.WriteEndArray();
        w.WriteStartArray("token_logprobs");
        foreach (var t in tokens)
        {
            if (t.Info is null || float.IsNaN(t.Info.Logprob)) w.WriteNullValue();
            else w.WriteNumberValue(float.IsNegativeInfinity(t.Info.Logprob) ? -9999.0 : Math.Round(t.Info.Logprob, 6));
        }
        w.WriteEndArray();
        w.WriteStartArray("top_logprobs");
        foreach (var t in tokens)
        {
            if (t.Info is null) { w.WriteNullValue(); continue; }
            w.WriteStartObject();
            foreach (var (token, _, logprob) in t.Info.Top) w.WriteLogprob(token, logprob);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartArray("text_offset");
        int offset = startOffset;
        foreach (var t in tokens)
        {
            w.WriteNumberValue(offset);
            offset += t.Token.Length;
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static IReadOnlyList<(string, TokenLogprobInfo?)> Generated(IEnumerable<TokenLogprobInfo> tokens) =>
        tokens.Select(t => (t.Token, (TokenLogprobInfo?)t)).ToArray();

    /// <summary>One <c>text_completion</c> chunk with one choice (null <paramref name="index"/>: the usage chunk).</summary>
    public static void TextChunk(Utf8JsonWriter w, string id, long created, string model, int? index, string text,
        IReadOnlyList<(string, TokenLogprobInfo?)>? logprobs, int textOffset, string? finish, bool usageField, (int Prompt, int Completion)? usage = null)
    {
        w.WriteStartObject();
        Header(w, id, "text_completion", created, model);
        w.WriteStartArray("choices");
        if (index is { } i)
        {
            w.WriteStartObject();
            w.WriteNumber("index", i);
            w.WriteString("text", text);
            if (logprobs is null) w.WriteNull("logprobs"); else TextLogprobs(w, logprobs, textOffset);
            if (finish is null) w.WriteNull("finish_reason"); else w.WriteString("finish_reason", finish);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        if (usage is { } u) Usage(w, u.Prompt, u.Completion);
        else if (usageField) w.WriteNull("usage");
        w.WriteEndObject();
    }

    public static void TextCompletion(Utf8JsonWriter w, string id, long created, string model, GenerationJob job, IReadOnlyList<ChoiceResult> choices,
        Func<int, IReadOnlyList<int>> promptOf)
    {
        w.WriteStartObject();
        Header(w, id, "text_completion", created, model);
        w.WriteStartArray("choices");
        var tokenizer = job.Model.Codec.Tokenizer;
        foreach (var c in choices)
        {
            var prompt = job.Prompts[c.Index / job.N];
            w.WriteStartObject();
            w.WriteNumber("index", c.Index);
            w.WriteString("text", job.Echo ? prompt.EchoText + c.Text : c.Text.ToString());
            if (job.Logprobs is null) w.WriteNull("logprobs");
            else
            {
                var tokens = new List<(string, TokenLogprobInfo?)>();
                if (job.Echo)
                    foreach (var id2 in promptOf(c.Index))
                        tokens.Add((System.Text.Encoding.UTF8.GetString(tokenizer.GetTokenBytes(id2)), null));
                tokens.AddRange(Generated(c.Logprobs));
                TextLogprobs(w, tokens, 0);
            }
            w.WriteString("finish_reason", c.FinishReason);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Usage(w, job.PromptTokens, choices.Sum(c => c.CompletionTokens));
        w.WriteEndObject();
    }
}
