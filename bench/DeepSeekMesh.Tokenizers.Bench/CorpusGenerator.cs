using System.Text;

namespace DeepSeekMesh.Tokenizers.Bench;

/// <summary>Deterministic mixed corpus: English prose, C#-like and Python-like code, a little CJK and emoji.</summary>
internal static class CorpusGenerator
{
    private static readonly string[] Words =
    [
        "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be", "by", "on", "not",
        "he", "this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "had", "they", "you", "were",
        "their", "one", "all", "we", "can", "her", "has", "there", "been", "if", "more", "when", "will", "would",
        "model", "attention", "tokenizer", "sequence", "distributed", "inference", "latency", "throughput",
        "experts", "routing", "probability", "architecture", "implementation", "performance", "memory", "cache",
        "gradient", "parameters", "however", "therefore", "especially", "approximately", "communication",
        "Europe", "London", "January", "Microsoft", "DeepSeek", "GPU", "NVIDIA", "Python", "internationalization",
    ];

    private static readonly string[] Identifiers =
    [
        "value", "count", "index", "buffer", "tokens", "result", "logits", "hiddenStates", "attentionMask",
        "batch_size", "num_heads", "head_dim", "kv_cache", "expertWeights", "scores", "layer", "config", "_options",
        "GetValueOrDefault", "ToArray", "CancellationToken", "ReadOnlySpan", "Dictionary", "self", "torch", "np",
    ];

    public static string Build(int targetBytes, int seed = 20250101)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder(targetBytes + 4096);
        while (sb.Length < targetBytes)
        {
            switch (rng.Next(10))
            {
                case < 5:
                    AppendProse(sb, rng);
                    break;
                case < 7:
                    AppendCSharp(sb, rng);
                    break;
                case < 9:
                    AppendPython(sb, rng);
                    break;
                default:
                    AppendMisc(sb, rng);
                    break;
            }
        }
        return sb.ToString();
    }

    private static string Pick(Random rng, string[] items) => items[rng.Next(items.Length)];

    private static void AppendProse(StringBuilder sb, Random rng)
    {
        int sentences = rng.Next(2, 7);
        for (int s = 0; s < sentences; s++)
        {
            int words = rng.Next(6, 22);
            for (int w = 0; w < words; w++)
            {
                string word = Pick(rng, Words);
                if (w == 0)
                {
                    word = char.ToUpperInvariant(word[0]) + word[1..];
                }
                sb.Append(word);
                if (w < words - 1)
                {
                    sb.Append(rng.Next(12) == 0 ? ", " : " ");
                }
                if (rng.Next(40) == 0)
                {
                    sb.Append(rng.Next(1, 20000)).Append(' ');
                }
            }
            sb.Append(rng.Next(8) == 0 ? "? " : ". ");
        }
        sb.Append("\n\n");
    }

    private static void AppendCSharp(StringBuilder sb, Random rng)
    {
        string name = Pick(rng, Identifiers);
        sb.Append("public static int Compute").Append(char.ToUpperInvariant(name[0])).Append(name[1..]).Append("(ReadOnlySpan<int> ")
          .Append(Pick(rng, Identifiers)).Append(", int ").Append(Pick(rng, Identifiers)).Append(")\n{\n");
        int lines = rng.Next(3, 10);
        for (int i = 0; i < lines; i++)
        {
            sb.Append("    ");
            switch (rng.Next(4))
            {
                case 0:
                    sb.Append("var ").Append(Pick(rng, Identifiers)).Append(" = ").Append(Pick(rng, Identifiers)).Append('.').Append(Pick(rng, Identifiers)).Append("();\n");
                    break;
                case 1:
                    sb.Append("for (int i = 0; i < ").Append(Pick(rng, Identifiers)).Append(".Length; i++)\n    {\n        sum += ")
                      .Append(Pick(rng, Identifiers)).Append("[i] * ").Append(rng.Next(100)).Append(";\n    }\n");
                    break;
                case 2:
                    sb.Append("if (").Append(Pick(rng, Identifiers)).Append(" >= ").Append(rng.Next(4096)).Append(" && !").Append(Pick(rng, Identifiers)).Append(".IsEmpty) return -1;\n");
                    break;
                default:
                    sb.Append("// ").Append(Pick(rng, Words)).Append(' ').Append(Pick(rng, Words)).Append(' ').Append(Pick(rng, Words)).Append('\n');
                    break;
            }
        }
        sb.Append("    return sum;\n}\n\n");
    }

    private static void AppendPython(StringBuilder sb, Random rng)
    {
        sb.Append("def ").Append(Pick(rng, Identifiers).ToLowerInvariant()).Append("_fn(self, ").Append(Pick(rng, Identifiers)).Append(", dim=").Append(rng.Next(1, 8)).Append("):\n");
        int lines = rng.Next(2, 8);
        for (int i = 0; i < lines; i++)
        {
            sb.Append("    ");
            switch (rng.Next(3))
            {
                case 0:
                    sb.Append(Pick(rng, Identifiers)).Append(" = torch.matmul(").Append(Pick(rng, Identifiers)).Append(", ").Append(Pick(rng, Identifiers)).Append(".transpose(-1, -2)) / math.sqrt(").Append(rng.Next(64, 257)).Append(")\n");
                    break;
                case 1:
                    sb.Append("if ").Append(Pick(rng, Identifiers)).Append(" is None:\n        raise ValueError(f\"missing {").Append(Pick(rng, Identifiers)).Append("!r}\")\n");
                    break;
                default:
                    sb.Append("# ").Append(Pick(rng, Words)).Append(' ').Append(Pick(rng, Words)).Append('\n');
                    break;
            }
        }
        sb.Append("    return ").Append(Pick(rng, Identifiers)).Append("\n\n");
    }

    private static void AppendMisc(StringBuilder sb, Random rng)
    {
        string[] misc =
        [
            "深度学习模型的推理速度很重要。", "日本語のテキストも少し含めます。", "Emoji 😀👍🏽🎉 and symbols ±∑√ ",
            "{\"id\": 123, \"name\": \"widget\", \"tags\": [\"a\", \"b\"]}\n", "https://example.com/api/v1/items?page=2&sort=desc\n",
            "| col1 | col2 |\n|------|------|\n| 1.5  | 2e-3 |\n",
        ];
        sb.Append(Pick(rng, misc)).Append('\n');
    }
}
