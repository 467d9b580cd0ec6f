using System.Text.Json;

namespace DeepSeekMesh.Tokenizers;

/// <summary>The fields of tokenizer_config.json that encoding and chat rendering need.</summary>
public sealed class TokenizerConfig
{
    public bool AddBosToken { get; init; }

    public bool AddEosToken { get; init; }

    public string? BosToken { get; init; }

    public string? EosToken { get; init; }

    public string? PadToken { get; init; }

    public string? UnkToken { get; init; }

    public string? ChatTemplate { get; init; }

    public string? TokenizerClass { get; init; }

    public bool CleanUpTokenizationSpaces { get; init; }

    public static TokenizerConfig Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new TokenizerFormatException(path, "(file)", "file not found");
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new TokenizerFormatException(path, "(root)", $"invalid JSON: {ex.Message}", ex);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerFormatException(path, "(root)", "expected a JSON object");
            }
            return new TokenizerConfig
            {
                AddBosToken = ReadBool(path, root, "add_bos_token", false),
                AddEosToken = ReadBool(path, root, "add_eos_token", false),
                BosToken = ReadTokenString(path, root, "bos_token"),
                EosToken = ReadTokenString(path, root, "eos_token"),
                PadToken = ReadTokenString(path, root, "pad_token"),
                UnkToken = ReadTokenString(path, root, "unk_token"),
                ChatTemplate = ReadChatTemplate(path, root),
                TokenizerClass = root.TryGetProperty("tokenizer_class", out var tc) && tc.ValueKind == JsonValueKind.String ? tc.GetString() : null,
                CleanUpTokenizationSpaces = ReadBool(path, root, "clean_up_tokenization_spaces", false),
            };
        }
    }

    private static bool ReadBool(string path, JsonElement root, string name, bool fallback)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new TokenizerFormatException(path, name, $"expected true/false, got {v.ValueKind}"),
        };
    }

    /// <summary>A special token is either a plain string or an AddedToken object with a "content" field.</summary>
    private static string? ReadTokenString(string path, JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind == JsonValueKind.String)
        {
            return v.GetString();
        }
        if (v.ValueKind == JsonValueKind.Object)
        {
            if (v.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
            {
                return c.GetString();
            }
            throw new TokenizerFormatException(path, name + ".content", "expected a string");
        }
        throw new TokenizerFormatException(path, name, $"expected a string or an AddedToken object, got {v.ValueKind}");
    }

    private static string? ReadChatTemplate(string path, JsonElement root)
    {
        if (!root.TryGetProperty("chat_template", out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind == JsonValueKind.String)
        {
            return v.GetString();
        }
        if (v.ValueKind == JsonValueKind.Array)
        {
            // Newer format: [{"name": "default", "template": "..."}, ...]
            string? first = null;
            foreach (var item in v.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("template", out var t) || t.ValueKind != JsonValueKind.String)
                {
                    throw new TokenizerFormatException(path, "chat_template[]", "expected objects with a string 'template'");
                }
                first ??= t.GetString();
                if (item.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.GetString() == "default")
                {
                    return t.GetString();
                }
            }
            return first;
        }
        throw new TokenizerFormatException(path, "chat_template", $"expected a string, got {v.ValueKind}");
    }
}
