using System.Text.Json;

namespace DeepSeekMesh.Model.Presets;

/// <summary>
/// What a demo model needs from a HuggingFace tokenizer directory: a vocabulary size that covers
/// every id (rounded up to a multiple of 128, as real checkpoints pad it) and the BOS/EOS ids.
/// </summary>
public sealed record TokenizerVocabulary(int VocabSize, int? BosId, int? EosId)
{
    /// <summary>The files a model directory takes from the tokenizer directory.</summary>
    public static IReadOnlyList<string> Files { get; } = ["tokenizer.json", "tokenizer_config.json"];

    public static TokenizerVocabulary Read(string directory)
    {
        var path = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path} not found", path);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        int maxId = root.GetProperty("model").GetProperty("vocab").EnumerateObject().Max(p => p.Value.GetInt32());
        var added = root.TryGetProperty("added_tokens", out var a) ? a.EnumerateArray().ToList() : [];
        if (added.Count > 0) maxId = Math.Max(maxId, added.Max(t => t.GetProperty("id").GetInt32()));
        int? IdOf(string? content) => content is null ? null
            : added.Where(t => t.GetProperty("content").GetString() == content).Select(t => (int?)t.GetProperty("id").GetInt32()).FirstOrDefault();
        var (bos, eos) = SpecialTokens(Path.Combine(directory, "tokenizer_config.json"));
        int vocab = (maxId + 1 + 127) / 128 * 128; // room for every id, rounded like real checkpoints
        return new TokenizerVocabulary(vocab, IdOf(bos), IdOf(eos));
    }

    /// <summary>Copies <see cref="Files"/> (those present) from one directory to another.</summary>
    public static void Copy(string from, string to)
    {
        foreach (var file in Files)
        {
            var source = Path.Combine(from, file);
            if (File.Exists(source)) File.Copy(source, Path.Combine(to, file), overwrite: true);
        }
    }

    static (string? Bos, string? Eos) SpecialTokens(string configPath)
    {
        if (!File.Exists(configPath)) return (null, null);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
        static string? Content(JsonElement root, string name) => !root.TryGetProperty(name, out var t) ? null
            : t.ValueKind == JsonValueKind.String ? t.GetString()
            : t.ValueKind == JsonValueKind.Object && t.TryGetProperty("content", out var c) ? c.GetString() : null;
        return (Content(doc.RootElement, "bos_token"), Content(doc.RootElement, "eos_token"));
    }
}
