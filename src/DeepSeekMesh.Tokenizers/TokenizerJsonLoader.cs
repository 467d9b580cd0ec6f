using System.Text.Json;

namespace DeepSeekMesh.Tokenizers;

/// <summary>Everything read from tokenizer.json, validated.</summary>
internal sealed record TokenizerDefinition(
    Dictionary<string, int> Vocab,
    List<(int Left, int Right)> MergePairs,
    int[] MergeResults,
    int[] ByteToId,
    List<AddedToken> AddedTokens,
    PreTokenizer PreTokenizer);

/// <summary>
/// Reads an HF tokenizer.json. Supported: model BPE (byte-level, no dropout/unk/prefix/suffix), normalizer null or
/// an empty Sequence, pre_tokenizer Split / ByteLevel / Sequence of those, decoder ByteLevel (or null).
/// Anything else throws <see cref="TokenizerFormatException"/> naming the field.
/// </summary>
internal static class TokenizerJsonLoader
{
    private const string Gpt2Pattern = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

    public static TokenizerDefinition Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new TokenizerFormatException(path, "(file)", "file not found");
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path));
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
            var model = Required(path, root, "model", JsonValueKind.Object);
            string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "(missing)";
            if (type != "BPE")
            {
                throw new TokenizerFormatException(path, "model.type", $"unsupported model type '{type}' (only BPE is supported)");
            }
            CheckModelOptions(path, model);
            var vocab = ReadVocab(path, model);
            var (pairs, results) = ReadMerges(path, model, vocab);
            var byteToId = new int[256];
            for (int b = 0; b < 256; b++)
            {
                string s = ByteLevelAlphabet.ByteToChar((byte)b).ToString();
                if (!vocab.TryGetValue(s, out byteToId[b]))
                {
                    throw new TokenizerFormatException(path, "model.vocab", $"byte-level BPE needs every byte symbol; '{s}' (byte 0x{b:X2}) is missing");
                }
            }
            CheckNormalizer(path, root);
            var pre = ReadPreTokenizer(path, root);
            CheckDecoder(path, root);
            var added = ReadAddedTokens(path, root);
            return new TokenizerDefinition(vocab, pairs, results, byteToId, added, pre);
        }
    }

    private static JsonElement Required(string path, JsonElement parent, string name, JsonValueKind kind, string? prefix = null)
    {
        string field = prefix is null ? name : $"{prefix}.{name}";
        if (!parent.TryGetProperty(name, out var v))
        {
            throw new TokenizerFormatException(path, field, "missing");
        }
        if (v.ValueKind != kind)
        {
            throw new TokenizerFormatException(path, field, $"expected {kind}, got {v.ValueKind}");
        }
        return v;
    }

    private static bool IsNullOrAbsent(JsonElement parent, string name) =>
        !parent.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null;

    private static void CheckModelOptions(string path, JsonElement model)
    {
        if (model.TryGetProperty("dropout", out var d) && d.ValueKind == JsonValueKind.Number && d.GetDouble() != 0)
        {
            throw new TokenizerFormatException(path, "model.dropout", "BPE dropout is not supported");
        }
        foreach (var name in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
        {
            if (model.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0)
            {
                throw new TokenizerFormatException(path, "model." + name, "not supported for byte-level BPE");
            }
        }
        if (model.TryGetProperty("byte_fallback", out var bf) && bf.ValueKind == JsonValueKind.True)
        {
            throw new TokenizerFormatException(path, "model.byte_fallback", "byte_fallback is not supported");
        }
        if (model.TryGetProperty("ignore_merges", out var im) && im.ValueKind == JsonValueKind.True)
        {
            throw new TokenizerFormatException(path, "model.ignore_merges", "ignore_merges is not supported");
        }
    }

    private static Dictionary<string, int> ReadVocab(string path, JsonElement model)
    {
        var vocabEl = Required(path, model, "vocab", JsonValueKind.Object, "model");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in vocabEl.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out int id) || id < 0)
            {
                throw new TokenizerFormatException(path, $"model.vocab[\"{p.Name}\"]", "expected a non-negative integer id");
            }
            vocab[p.Name] = id;
        }
        if (vocab.Count == 0)
        {
            throw new TokenizerFormatException(path, "model.vocab", "empty vocabulary");
        }
        return vocab;
    }

    private static (List<(int, int)>, int[]) ReadMerges(string path, JsonElement model, Dictionary<string, int> vocab)
    {
        var mergesEl = Required(path, model, "merges", JsonValueKind.Array, "model");
        var pairs = new List<(int, int)>(mergesEl.GetArrayLength());
        var results = new int[mergesEl.GetArrayLength()];
        int rank = 0;
        foreach (var m in mergesEl.EnumerateArray())
        {
            string field = $"model.merges[{rank}]";
            string left, right;
            if (m.ValueKind == JsonValueKind.String)
            {
                string s = m.GetString()!;
                int sp = s.IndexOf(' ');
                if (sp <= 0 || sp == s.Length - 1 || s.IndexOf(' ', sp + 1) >= 0)
                {
                    throw new TokenizerFormatException(path, field, $"expected \"left right\", got \"{s}\"");
                }
                left = s[..sp];
                right = s[(sp + 1)..];
            }
            else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2 &&
                     m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String)
            {
                left = m[0].GetString()!;
                right = m[1].GetString()!;
            }
            else
            {
                throw new TokenizerFormatException(path, field, "expected a \"left right\" string or a [left, right] pair");
            }
            if (!vocab.TryGetValue(left, out int l))
            {
                throw new TokenizerFormatException(path, field, $"'{left}' is not in model.vocab");
            }
            if (!vocab.TryGetValue(right, out int r))
            {
                throw new TokenizerFormatException(path, field, $"'{right}' is not in model.vocab");
            }
            if (!vocab.TryGetValue(left + right, out int merged))
            {
                throw new TokenizerFormatException(path, field, $"merged token '{left + right}' is not in model.vocab");
            }
            pairs.Add((l, r));
            results[rank] = merged;
            rank++;
        }
        return (pairs, results);
    }

    private static void CheckNormalizer(string path, JsonElement root)
    {
        if (IsNullOrAbsent(root, "normalizer"))
        {
            return;
        }
        var n = root.GetProperty("normalizer");
        string type = n.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        if (type == "Sequence" && n.TryGetProperty("normalizers", out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() == 0)
        {
            return;
        }
        throw new TokenizerFormatException(path, "normalizer", $"unsupported normalizer '{type}' (only null or an empty Sequence)");
    }

    private static void CheckDecoder(string path, JsonElement root)
    {
        if (IsNullOrAbsent(root, "decoder"))
        {
            return;
        }
        var d = root.GetProperty("decoder");
        string type = d.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        if (type != "ByteLevel")
        {
            throw new TokenizerFormatException(path, "decoder.type", $"unsupported decoder '{type}' (only ByteLevel)");
        }
    }

    private static PreTokenizer ReadPreTokenizer(string path, JsonElement root)
    {
        if (IsNullOrAbsent(root, "pre_tokenizer"))
        {
            throw new TokenizerFormatException(path, "pre_tokenizer", "missing; byte-level BPE needs a ByteLevel pre-tokenizer");
        }
        var steps = new List<SplitStep>();
        bool byteLevel = false;
        AddPreTokenizer(path, root.GetProperty("pre_tokenizer"), "pre_tokenizer", steps, ref byteLevel);
        if (!byteLevel)
        {
            throw new TokenizerFormatException(path, "pre_tokenizer", "no ByteLevel pre-tokenizer found; only byte-level BPE is supported");
        }
        return new PreTokenizer(steps);
    }

    private static void AddPreTokenizer(string path, JsonElement el, string field, List<SplitStep> steps, ref bool byteLevel)
    {
        if (el.ValueKind != JsonValueKind.Object)
        {
            throw new TokenizerFormatException(path, field, "expected an object");
        }
        string type = el.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "(missing)";
        if (byteLevel)
        {
            throw new TokenizerFormatException(path, field, $"'{type}' after ByteLevel is not supported (ByteLevel must come last)");
        }
        switch (type)
        {
            case "Sequence":
                var list = Required(path, el, "pretokenizers", JsonValueKind.Array, field);
                int i = 0;
                foreach (var item in list.EnumerateArray())
                {
                    AddPreTokenizer(path, item, $"{field}.pretokenizers[{i++}]", steps, ref byteLevel);
                }
                break;
            case "Split":
                steps.Add(ReadSplit(path, el, field));
                break;
            case "ByteLevel":
                if (el.TryGetProperty("add_prefix_space", out var aps) && aps.ValueKind == JsonValueKind.True)
                {
                    throw new TokenizerFormatException(path, field + ".add_prefix_space", "add_prefix_space=true is not supported");
                }
                if (!el.TryGetProperty("use_regex", out var ur) || ur.ValueKind != JsonValueKind.False)
                {
                    steps.Add(new SplitStep(SplitPattern.FromRegex(Gpt2Pattern), SplitBehavior.Isolated));
                }
                byteLevel = true;
                break;
            default:
                throw new TokenizerFormatException(path, field + ".type", $"unknown or unsupported pre-tokenizer '{type}' (supported: Sequence, Split, ByteLevel)");
        }
    }

    private static SplitStep ReadSplit(string path, JsonElement el, string field)
    {
        var pattern = Required(path, el, "pattern", JsonValueKind.Object, field);
        SplitPattern matcher;
        if (pattern.TryGetProperty("Regex", out var rx) && rx.ValueKind == JsonValueKind.String)
        {
            try
            {
                matcher = SplitPattern.FromRegex(rx.GetString()!);
            }
            catch (Exception ex) when (ex is NotSupportedException or ArgumentException)
            {
                throw new TokenizerFormatException(path, field + ".pattern.Regex", $"cannot use regex: {ex.Message}", ex);
            }
        }
        else if (pattern.TryGetProperty("String", out var str) && str.ValueKind == JsonValueKind.String && str.GetString()!.Length > 0)
        {
            matcher = SplitPattern.FromLiteral(str.GetString()!);
        }
        else
        {
            throw new TokenizerFormatException(path, field + ".pattern", "expected {\"Regex\": \"...\"} or a non-empty {\"String\": \"...\"}");
        }
        if (el.TryGetProperty("invert", out var inv) && inv.ValueKind == JsonValueKind.True)
        {
            throw new TokenizerFormatException(path, field + ".invert", "invert=true is not supported");
        }
        string behavior = el.TryGetProperty("behavior", out var b) && b.ValueKind == JsonValueKind.String ? b.GetString()! : "(missing)";
        if (!Enum.TryParse<SplitBehavior>(behavior, ignoreCase: false, out var parsed))
        {
            throw new TokenizerFormatException(path, field + ".behavior", $"unsupported split behavior '{behavior}'");
        }
        return new SplitStep(matcher, parsed);
    }

    private static List<AddedToken> ReadAddedTokens(string path, JsonElement root)
    {
        var result = new List<AddedToken>();
        if (IsNullOrAbsent(root, "added_tokens"))
        {
            return result;
        }
        var arr = Required(path, root, "added_tokens", JsonValueKind.Array);
        int i = 0;
        foreach (var a in arr.EnumerateArray())
        {
            string field = $"added_tokens[{i++}]";
            if (a.ValueKind != JsonValueKind.Object)
            {
                throw new TokenizerFormatException(path, field, "expected an object");
            }
            var idEl = Required(path, a, "id", JsonValueKind.Number, field);
            if (!idEl.TryGetInt32(out int id) || id < 0)
            {
                throw new TokenizerFormatException(path, field + ".id", "expected a non-negative integer");
            }
            string content = Required(path, a, "content", JsonValueKind.String, field).GetString()!;
            if (content.Length == 0)
            {
                throw new TokenizerFormatException(path, field + ".content", "empty token content");
            }
            result.Add(new AddedToken(id, content,
                Special: Flag(a, "special", false),
                SingleWord: Flag(a, "single_word", false),
                LStrip: Flag(a, "lstrip", false),
                RStrip: Flag(a, "rstrip", false),
                Normalized: Flag(a, "normalized", true)));
        }
        return result;
    }

    private static bool Flag(JsonElement el, string name, bool fallback) =>
        el.TryGetProperty(name, out var v) ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => fallback } : fallback;
}
