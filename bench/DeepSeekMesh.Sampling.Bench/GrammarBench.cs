using System.Diagnostics;
using DeepSeekMesh.Sampling.Structured;
using DeepSeekMesh.Tokenizers;

namespace DeepSeekMesh.Sampling.Bench;

/// <summary>
/// Constrained JSON decoding at the real DeepSeek-V3 vocabulary: vocabulary preparation, per-schema compile,
/// first-visit mask builds, and the per-token cost once a schema's states are cached (mask + advance).
/// Sequences follow random model-like logits (argmax of the masked row), restarting when the JSON completes.
/// </summary>
internal static class GrammarBench
{
    const int Vocab = 129_280;

    static readonly (string Name, string Schema)[] Schemas =
    [
        ("json_object", ByteAutomaton.JsonObjectSchema),
        ("person (10 properties, nested, enum, array)", """
        {"type":"object","properties":{
          "name":{"type":"string"},"age":{"type":"integer"},"email":{"type":["string","null"]},
          "score":{"type":"number"},"active":{"type":"boolean"},
          "role":{"enum":["admin","user","guest"]},
          "tags":{"type":"array","items":{"type":"string"},"maxItems":5},
          "address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},"zip":{"type":"string"}},"required":["street","city"]},
          "history":{"type":"array","items":{"type":"object","properties":{"year":{"type":"integer"},"event":{"type":"string"}},"required":["year","event"]}},
          "notes":{}
        },"required":["name","age","role","tags","address"],"additionalProperties":false}
        """),
    ];

    public static void Run(string tokenizerDirectory, int sequences, int maxTokens)
    {
        var clock = Stopwatch.StartNew();
        var tokenizer = Tokenizer.FromDirectory(tokenizerDirectory);
        double loadMs = clock.Elapsed.TotalMilliseconds;
        clock.Restart();
        var vocabulary = TokenVocabulary.FromTokenizer(tokenizer, Vocab, tokenizer.EosTokenId is { } e ? [e] : []);
        double vocabMs = clock.Elapsed.TotalMilliseconds;
        Console.WriteLine($"tokenizer load {loadMs:F0} ms; vocabulary prepared in {vocabMs:F0} ms ({vocabulary.TextTokenCount} text tokens of {Vocab}, longest {vocabulary.MaxTokenBytes} bytes)");

        var pool = new float[64][];
        for (int i = 0; i < pool.Length; i++) pool[i] = ModelLike(Vocab, 100 + i);
        var work = new float[Vocab];

        // JIT the compiler and the walk first, so the timings below are steady-state.
        new TokenGrammar(JsonSchemaCompiler.Compile("""{"type":"object","properties":{"w":{"type":"array","items":{"type":["number","string"]}}}}"""), vocabulary)
            .NewMatcher().Apply(new float[Vocab], 10);

        foreach (var (name, schema) in Schemas)
        {
            clock.Restart();
            var automaton = JsonSchemaCompiler.Compile(schema);
            double compileMs = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            var grammar = new TokenGrammar(automaton, vocabulary);
            double bindMs = clock.Elapsed.TotalMilliseconds;

            // Cold: the first sequences build the masks of the states they reach.
            clock.Restart();
            var cold = Generate(grammar, pool, work, sequences, maxTokens, seed: 1, out _);
            double coldMs = clock.Elapsed.TotalMilliseconds;
            int built = grammar.CachedStates;
            // Warm: the same number of new sequences (other logits), timing mask + advance per token.
            var warm = Generate(grammar, pool, work, sequences, maxTokens, seed: 2, out var perToken);
            double Us(long t) => t * 1e6 / Stopwatch.Frequency;
            var cached = perToken.Where(t => !t.Walked).Select(t => Us(t.Ticks)).Order().ToArray();
            var walked = perToken.Where(t => t.Walked).Select(t => Us(t.Ticks)).ToArray();
            Console.WriteLine($"{name}: compile {compileMs:F1} ms ({automaton.StateCount} automaton states) + bind {bindMs:F1} ms; "
                + $"cold pass: {cold} tokens in {coldMs:F0} ms, {built} state masks built; "
                + $"second pass: {warm} tokens, {cached.Length} from cached masks: mask+advance median {cached[cached.Length / 2]:F1} us, "
                + $"p90 {cached[cached.Length * 9 / 10]:F1} us, mean {cached.Average():F1} us; {walked.Length} walked the vocabulary: mean {(walked.Length > 0 ? walked.Average() / 1000 : 0):F2} ms");
        }
    }

    static int Generate(TokenGrammar grammar, float[][] pool, float[] work, int sequences, int maxTokens, int seed, out List<(long Ticks, bool Walked)> perToken)
    {
        perToken = [];
        var rng = new Random(seed);
        int tokens = 0;
        for (int s = 0; s < sequences; s++)
        {
            var matcher = grammar.NewMatcher();
            for (int n = 0; n < maxTokens && !matcher.IsComplete; n++)
            {
                pool[rng.Next(pool.Length)].CopyTo(work, 0);
                int walks = grammar.Walks;
                long t0 = Stopwatch.GetTimestamp();
                matcher.Apply(work, maxTokens - n);
                long t1 = Stopwatch.GetTimestamp();
                int token = VectorMath.ArgMax(work);
                long t2 = Stopwatch.GetTimestamp();
                bool ok = matcher.Advance(token);
                perToken.Add((t1 - t0 + Stopwatch.GetTimestamp() - t2, grammar.Walks != walks));
                tokens++;
                if (!ok) throw new InvalidOperationException($"token {token} rejected after masking");
                if (grammar.Vocabulary.Bytes(token).IsEmpty) break; // EOS
            }
            if (!grammar.Automaton.IsAccepting(matcher.State)) throw new InvalidOperationException("sequence ended incomplete");
        }
        return tokens;
    }

    static float[] ModelLike(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i] = (float)(2.5 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return x;
    }
}
