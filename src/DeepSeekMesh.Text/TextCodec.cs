using System.Text.RegularExpressions;
using DeepSeekMesh.ChatTemplates;
using DeepSeekMesh.Text.Agents;
using DeepSeekMesh.Tokenizers;

namespace DeepSeekMesh.Text;

/// <summary>
/// The text boundary of the product, shared by <c>dsmesh generate --prompt</c> and the gateway so
/// both tokenize identically: a raw prompt gets BOS as tokenizer_config's add_bos_token says; a chat
/// is rendered with the model's own chat template (which writes BOS itself) and gets none added.
/// </summary>
public sealed class TextCodec
{
    readonly ChatTemplateRenderer? _chat;

    public Tokenizer Tokenizer { get; }

    TextCodec(Tokenizer tokenizer, ChatTemplateRenderer? chat, bool templateTakesTools)
    {
        Tokenizer = tokenizer;
        _chat = chat;
        TemplateTakesTools = templateTakesTools;
        HasThinkTokens = tokenizer.TokenToId(ReasoningParser.StartTag) is not null && tokenizer.TokenToId(ReasoningParser.EndTag) is not null;
    }

    /// <summary>Loads tokenizer.json and tokenizer_config.json (with its chat_template, if any) from a directory.</summary>
    public static TextCodec FromDirectory(string directory)
    {
        var tokenizer = Tokenizer.FromDirectory(directory);
        ChatTemplateRenderer? chat = null;
        if (tokenizer.ChatTemplate is { } template)
            chat = new ChatTemplateRenderer(template) { BosToken = tokenizer.BosToken, EosToken = tokenizer.EosToken };
        return new TextCodec(tokenizer, chat, tokenizer.ChatTemplate is { } source && Regex.IsMatch(source, @"\btools\b"));
    }

    /// <summary>True when a tokenizer sits in <paramref name="directory"/> (a model directory usually carries one).</summary>
    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, "tokenizer.json"));

    public bool HasChatTemplate => _chat is not null;

    /// <summary>True when the chat template reads a <c>tools</c> variable (it lists tools itself); DeepSeek-V3's does not.</summary>
    public bool TemplateTakesTools { get; }

    /// <summary>True when the vocabulary has <c>&lt;think&gt;</c> and <c>&lt;/think&gt;</c> tokens (R1-style reasoning models).</summary>
    public bool HasThinkTokens { get; }

    public int[] EncodePrompt(string prompt) => Tokenizer.Encode(prompt, Tokenizer.AddBosToken && Tokenizer.BosTokenId is not null);

    public string RenderChat(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true, IReadOnlyList<object?>? tools = null)
    {
        if (_chat is null) throw new InvalidOperationException("this tokenizer has no chat_template in tokenizer_config.json");
        return _chat.RenderChat(messages, addGenerationPrompt, tools);
    }

    public int[] EncodeChat(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = true) =>
        Tokenizer.Encode(RenderChat(messages, addGenerationPrompt), addBos: false);

    /// <summary>A fresh streaming decoder for one generation: text deltas, cut at the first stop string.</summary>
    public TextStream NewStream(IReadOnlyList<string>? stop = null, bool skipSpecialTokens = true) =>
        new(new StreamingDetokenizer(Tokenizer, skipSpecialTokens), stop is { Count: > 0 } ? new StopSequenceMatcher(stop) : null);
}
