using System.Text.Json;

namespace DeepSeekMesh.Cli;

/// <summary>What init-model needs from a tokenizer directory: the vocabulary size and special ids, and the files.</summary>
public static class TokenizerFiles
{
    static readonly string[] Files = ["tokenizer.json", "tokenizer_config.json"];

    public static (int? VocabSize, int? BosId, int? EosId) Describe(string directory)
    {
        var path = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(path)) throw new UsageException($"--tokenizer: {path} not found");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        int maxId = root.GetProperty("model").GetProperty("vocab").EnumerateObject().Max(p => p.Value.GetInt32());
        var added = root.TryGetProperty("added_tokens", out var a) ? a.EnumerateArray().ToList() : [];
        if (added.Count > 0) maxId = Math.Max(maxId, added.Max(t => t.GetProperty("id").GetInt32()));
        int? IdOf(string? content) => content is null ? null
            : added.Where(t => t.GetProperty("content").GetString() == content).Select(t => (int?)t.GetProperty("id").GetInt32()).FirstOrDefault();
        var (bos, eos) = SpecialTokens(Path.Combine(directory, "tokenizer_config.json"));
        int vocab = (maxId + 1 + 127) / 128 * 128; // room for every id, rounded like real checkpoints
        return (vocab, IdOf(bos), IdOf(eos));
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

    public static void Copy(string from, string to)
    {
        foreach (var file in Files)
        {
            var source = Path.Combine(from, file);
            if (File.Exists(source)) File.Copy(source, Path.Combine(to, file), overwrite: true);
        }
    }
}
