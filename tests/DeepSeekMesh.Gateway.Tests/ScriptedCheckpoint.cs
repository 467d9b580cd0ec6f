using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using DeepSeekMesh.Model.Presets;
using DeepSeekMesh.Model.Weights;
using DeepSeekMesh.Tokenizers;

namespace DeepSeekMesh.Gateway.Tests;

/// <summary>
/// A "scripted" checkpoint: the tiny preset with the real DeepSeek-V3 tokenizer, rewritten so that greedy
/// decoding says what a test chose. Every <c>o_proj</c> and <c>down_proj</c> is zero, so the residual
/// stream at a position is only the current token's embedding; each scripted token's embedding is a
/// one-hot row (its own hidden dimension), and the lm_head row of its successor reads that dimension.
/// The last prompt token (the trigger: <c>&lt;｜Assistant｜&gt;</c> after a user turn,
/// <c>&lt;｜tool▁outputs▁end｜&gt;</c> after tool results) thus starts a walk through the script.
/// A token followed by different tokens in different places has ranked successors (logits
/// <see cref="Logit"/>, then 0.3 less each): with <c>presence_penalty</c> <see cref="PresencePenalty"/>
/// the first successor not yet generated wins, which lets a script repeat a token with a new successor.
/// <see cref="Write"/> replays every script against these rules and refuses one that greedy decoding
/// would not follow.
/// </summary>
public static class ScriptedCheckpoint
{
    public const float Logit = 10f, Step = 0.3f, PresencePenalty = 1f;

    /// <summary>R1's tokenizer turns two of V3's placeholder tokens into its think tags.</summary>
    public const int ThinkId = 128798, EndThinkId = 128799;

    /// <summary>
    /// Writes the checkpoint into <paramref name="directory"/> and returns it. Each script is a list of text
    /// pieces, encoded piece by piece (so a test chooses where tokens split); its first piece is the trigger token.
    /// </summary>
    public static string Write(string directory, IReadOnlyList<string[]> scripts, bool thinkTokens)
    {
        ModelPreset.WriteDemo(directory, "tiny", seed: 5, RepoPaths.TokenizerDirectory);
        if (thinkTokens) AddThinkTokens(Path.Combine(directory, "tokenizer.json"));
        var tokenizer = Tokenizer.FromDirectory(directory);
        var sequences = scripts.Select(s => s.SelectMany(piece => tokenizer.Encode(piece, addBos: false)).ToArray()).ToList();
        var successors = Successors(sequences);
        foreach (var (sequence, script) in sequences.Zip(scripts)) Replay(sequence, successors, string.Concat(script));
        Rewrite(directory, successors);
        return directory;
    }

    /// <summary>Per token, its successors in the order the scripts first use them.</summary>
    static Dictionary<int, List<int>> Successors(IEnumerable<int[]> sequences)
    {
        var successors = new Dictionary<int, List<int>>();
        foreach (var s in sequences)
            for (int i = 0; i + 1 < s.Length; i++)
            {
                var list = successors.TryGetValue(s[i], out var l) ? l : successors[s[i]] = [];
                if (!list.Contains(s[i + 1])) list.Add(s[i + 1]);
            }
        return successors;
    }

    static float LogitOf(int rank) => Logit - rank * Step;

    /// <summary>Greedy decoding with the presence penalty, as the engine does it, must reproduce the script.</summary>
    static void Replay(int[] sequence, Dictionary<int, List<int>> successors, string text)
    {
        var generated = new HashSet<int>();
        for (int i = 0; i + 1 < sequence.Length; i++)
        {
            var ranked = successors[sequence[i]].Select((t, rank) => (Token: t, Logit: LogitOf(rank) - (generated.Contains(t) ? PresencePenalty : 0))).ToList();
            var best = ranked.MaxBy(r => r.Logit);
            bool unique = ranked.Count(r => Math.Abs(r.Logit - best.Logit) < 0.05f) == 1;
            if (best.Token != sequence[i + 1] || !unique)
                throw new InvalidOperationException($"script \"{text}\": at token {i + 1} greedy decoding would pick {best.Token}, not {sequence[i + 1]}; split the text differently");
            generated.Add(sequence[i + 1]);
        }
    }

    static void AddThinkTokens(string path)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        foreach (var token in json["added_tokens"]!.AsArray())
        {
            int id = token!["id"]!.GetValue<int>();
            if (id != ThinkId && id != EndThinkId) continue;
            token["content"] = id == ThinkId ? "<think>" : "</think>";
            token["special"] = false;
        }
        File.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>Zeroes o_proj and down_proj, writes the one-hot embeddings and the lm_head rows; the rest stays random.</summary>
    static void Rewrite(string directory, Dictionary<int, List<int>> successors)
    {
        var path = Path.Combine(directory, "model.safetensors");
        var temporary = path + ".scripted";
        using (var file = SafetensorsFile.Open(path))
        {
            long hidden = file.Tensors["model.embed_tokens.weight"].Shape[1];
            if (successors.Count > hidden) throw new InvalidOperationException($"the scripts use {successors.Count} tokens with successors; the tiny preset has {hidden} dimensions");
            var dimension = successors.Keys.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i);
            var tensors = file.Tensors.Values.OrderBy(e => e.Begin).Select(e => new TensorToWrite(e.Name, e.DType, e.Shape, e.Name switch
            {
                var n when n.EndsWith(".o_proj.weight", StringComparison.Ordinal) || n.EndsWith(".down_proj.weight", StringComparison.Ordinal) => () => new byte[e.ByteCount],
                "model.embed_tokens.weight" => () => Embeddings(file.Bytes(e).ToArray(), hidden, dimension),
                "lm_head.weight" => () => LmHead(e.Shape[0], hidden, successors, dimension),
                _ => () => file.Bytes(e).ToArray(),
            })).ToList();
            if (tensors.Any(t => t.DType != SafetensorsDType.BF16 && (t.Name.EndsWith("proj.weight", StringComparison.Ordinal) || t.Name.Contains("embed") || t.Name.StartsWith("lm_head", StringComparison.Ordinal))))
                throw new InvalidOperationException("scripted checkpoints are BF16");
            SafetensorsWriter.Write(temporary, tensors);
        }
        File.Move(temporary, path, overwrite: true);
    }

    static byte[] Embeddings(byte[] random, long hidden, Dictionary<int, int> dimension)
    {
        var bits = MemoryMarshal.Cast<byte, ushort>(random.AsSpan());
        foreach (var (token, d) in dimension)
            for (long j = 0; j < hidden; j++) bits[(int)(token * hidden + j)] = ElementDecoder.FloatToBf16(j == d ? 1f : 0f);
        return random;
    }

    /// <summary>RMSNorm turns a one-hot embedding into √hidden at its dimension: rows are scaled so that logits are <see cref="LogitOf"/>.</summary>
    static byte[] LmHead(long vocab, long hidden, Dictionary<int, List<int>> successors, Dictionary<int, int> dimension)
    {
        var bytes = new byte[vocab * hidden * 2];
        var bits = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan());
        foreach (var (token, next) in successors)
            for (int rank = 0; rank < next.Count; rank++)
                bits[(int)(next[rank] * hidden + dimension[token])] = ElementDecoder.FloatToBf16(LogitOf(rank) / MathF.Sqrt(hidden));
        return bytes;
    }
}
