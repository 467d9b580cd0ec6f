using System.Text.Json;
using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates;

/// <summary>
/// Renders conversations with a chat template, passing the variables HF's <c>apply_chat_template</c> passes:
/// <c>messages</c>, <c>add_generation_prompt</c>, <c>tools</c> (None when absent), <c>documents</c> (None),
/// <c>bos_token</c>/<c>eos_token</c> (only when given), plus any extra variables.
/// Thread-safe once constructed.
/// </summary>
public sealed class ChatTemplateRenderer
{
    public ChatTemplateRenderer(ChatTemplate template)
    {
        ArgumentNullException.ThrowIfNull(template);
        Template = template;
    }

    /// <summary>Parses <paramref name="templateSource"/>; throws <see cref="TemplateSyntaxException"/> when invalid.</summary>
    public ChatTemplateRenderer(string templateSource) : this(ChatTemplate.Parse(templateSource)) { }

    public ChatTemplate Template { get; }

    /// <summary>
    /// When true, a tool call's JSON argument text is passed to the template as an object (HF convention for
    /// templates such as Qwen 2.5 and Llama 3.1 that apply <c>tojson</c> to it). Default false: the text as is
    /// (what DeepSeek-V3's template concatenates).
    /// </summary>
    public bool ToolCallArgumentsAsObjects { get; init; }

    /// <summary>Clock read by <c>strftime_now</c>; defaults to the system clock.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>BOS token text from the tokenizer config, when created by <see cref="FromTokenizerConfig"/>.</summary>
    public string? BosToken { get; init; }

    /// <summary>EOS token text from the tokenizer config, when created by <see cref="FromTokenizerConfig"/>.</summary>
    public string? EosToken { get; init; }

    /// <summary>
    /// Reads <c>chat_template</c> (a string, or a list of {name, template} where "default" is used) and the
    /// <c>bos_token</c>/<c>eos_token</c> (strings or AddedToken objects) from a HF <c>tokenizer_config.json</c> text.
    /// </summary>
    public static ChatTemplateRenderer FromTokenizerConfig(string tokenizerConfigJson)
    {
        using var doc = JsonDocument.Parse(tokenizerConfigJson);
        var root = doc.RootElement;
        if (!root.TryGetProperty("chat_template", out var ct)) throw new TemplateException("tokenizer config has no chat_template");
        string? source = null;
        if (ct.ValueKind == JsonValueKind.String)
        {
            source = ct.GetString();
        }
        else if (ct.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in ct.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("name", out var n) && n.GetString() == "default"
                    && entry.TryGetProperty("template", out var t))
                {
                    source = t.GetString();
                }
            }
        }
        if (source is null) throw new TemplateException("tokenizer config has no usable chat_template");
        return new ChatTemplateRenderer(source)
        {
            BosToken = TokenText(root, "bos_token"),
            EosToken = TokenText(root, "eos_token"),
        };
    }

    private static string? TokenText(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var t)) return null;
        return t.ValueKind switch
        {
            JsonValueKind.String => t.GetString(),
            JsonValueKind.Object when t.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
            _ => null,
        };
    }

    /// <summary>Renders a conversation with the given special tokens.</summary>
    /// <exception cref="TemplateException">The template failed (e.g. its own raise_exception).</exception>
    public string RenderChat(
        IReadOnlyList<ChatMessage> messages,
        bool addGenerationPrompt,
        string? bosToken,
        string? eosToken,
        IReadOnlyList<object?>? tools = null,
        IReadOnlyDictionary<string, object?>? extraVariables = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = new List<Value>(messages.Count);
        foreach (var m in messages)
        {
            ArgumentNullException.ThrowIfNull(m);
            list.Add(ChatValues.Message(m, ToolCallArgumentsAsObjects));
        }

        var vars = new List<KeyValuePair<string, Value>>(8);
        if (extraVariables is not null)
        {
            foreach (var kv in extraVariables) vars.Add(new(kv.Key, ValueConverter.From(kv.Value)));
        }
        vars.Add(new("messages", new ListValue(list)));
        vars.Add(new("add_generation_prompt", BoolValue.Of(addGenerationPrompt)));
        vars.Add(new("tools", tools is null ? NoneValue.Instance : ValueConverter.From(tools)));
        if (extraVariables is null || !extraVariables.ContainsKey("documents")) vars.Add(new("documents", NoneValue.Instance));
        if (bosToken is not null) vars.Add(new("bos_token", StringValue.Of(bosToken)));
        if (eosToken is not null) vars.Add(new("eos_token", StringValue.Of(eosToken)));
        return Template.RenderValues(vars, Clock);
    }

    /// <summary>Renders with the <see cref="BosToken"/>/<see cref="EosToken"/> read from the tokenizer config.</summary>
    public string RenderChat(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt, IReadOnlyList<object?>? tools = null) =>
        RenderChat(messages, addGenerationPrompt, BosToken, EosToken, tools);
}
