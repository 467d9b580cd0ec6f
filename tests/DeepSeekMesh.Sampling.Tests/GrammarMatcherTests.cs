using System.Text;
using System.Text.Json;
using DeepSeekMesh.Sampling.Structured;
using DeepSeekMesh.TestSupport;
using DeepSeekMesh.Tokenizers;

namespace DeepSeekMesh.Sampling.Tests;

/// <summary>The real DeepSeek-V3 vocabulary, prepared once for these tests.</summary>
public sealed class DeepSeekVocabulary
{
    public const int LogitsSize = 129_280;

    public DeepSeekVocabulary()
    {
        Tokenizer = Tokenizer.FromDirectory(RepoPaths.TokenizerDirectory);
        Eos = Tokenizer.EosTokenId!.Value;
        Vocabulary = TokenVocabulary.FromTokenizer(Tokenizer, LogitsSize, [Eos]);
    }

    public Tokenizer Tokenizer { get; }
    public int Eos { get; }
    public TokenVocabulary Vocabulary { get; }
}

/// <summary>Token masks over the real vocabulary: random logits never leave the grammar, and outputs end in time.</summary>
public class GrammarMatcherTests(DeepSeekVocabulary deepSeek) : IClassFixture<DeepSeekVocabulary>
{
    const string Schema = """
        {"type":"object","properties":{"id":{"type":"integer"},"name":{"type":"string"},"tags":{"type":"array","items":{"enum":["a","b c"]},"maxItems":3},
         "score":{"type":["number","null"]},"meta":{}},"required":["id","name","tags"]}
        """;

    /// <summary>Random logits rows, reused (drawing 129,280 numbers per step would dominate the test).</summary>
    static readonly float[][] Rows = Enumerable.Range(0, 32).Select(r =>
    {
        var rng = new Random(r);
        return Enumerable.Range(0, DeepSeekVocabulary.LogitsSize).Select(_ => (float)rng.NextDouble()).ToArray();
    }).ToArray();

    /// <summary>Masks, then takes the argmax of random logits, until the grammar completes or EOS; returns the bytes.</summary>
    byte[] Generate(string schema, int maxTokens, int seed, out bool complete)
    {
        var matcher = deepSeek.Vocabulary.Grammar(schema).NewMatcher();
        var rng = new Random(seed);
        var logits = new float[DeepSeekVocabulary.LogitsSize];
        var output = new List<byte>();
        complete = false;
        for (int n = 0; n < maxTokens; n++)
        {
            Rows[rng.Next(Rows.Length)].CopyTo(logits, 0);
            matcher.Apply(logits, maxTokens - n);
            int token = VectorMath.ArgMax(logits);
            Assert.False(float.IsNegativeInfinity(logits[token]), "every token was masked");
            Assert.True(matcher.Advance(token), $"token {token} was allowed but does not continue the output");
            if (token == deepSeek.Eos) { complete = true; break; }
            output.AddRange(deepSeek.Vocabulary.Bytes(token).ToArray());
            if (matcher.IsComplete) { complete = true; break; }
        }
        return [.. output];
    }

    [Fact]
    public void Every_byte_is_a_token_so_any_output_can_be_closed_byte_by_byte()
    {
        for (int b = 0; b < 256; b++) Assert.True(deepSeek.Vocabulary.IsSingleByteToken((byte)b), $"byte {b}");
        Assert.True(deepSeek.Vocabulary.TextTokenCount > 120_000);
        Assert.True(deepSeek.Vocabulary.Bytes(deepSeek.Eos).IsEmpty); // EOS is never text
    }

    [Theory]
    [InlineData(ByteAutomaton.JsonObjectSchema, 40)]
    [InlineData(ByteAutomaton.JsonObjectSchema, 2)]
    [InlineData(Schema, 60)]
    [InlineData(Schema, 28)] // the shortest output: {"id":0,"name":"","tags":[]}, one token per byte at worst
    public void Random_logits_give_parseable_output_within_max_tokens(string schema, int maxTokens)
    {
        var automaton = ByteAutomaton.FromSchema(schema);
        for (int seed = 0; seed < 12; seed++)
        {
            var bytes = Generate(schema, maxTokens, seed, out bool complete);
            string text = Encoding.UTF8.GetString(bytes);
            Assert.True(complete, $"seed {seed}: not complete after {maxTokens} tokens: {text}");
            Assert.True(automaton.Accepts(bytes), text);
            using var json = JsonDocument.Parse(bytes);
            Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
            if (schema == Schema)
            {
                Assert.Equal(JsonValueKind.Number, json.RootElement.GetProperty("id").ValueKind);
                Assert.Equal(JsonValueKind.Array, json.RootElement.GetProperty("tags").ValueKind);
                Assert.All(json.RootElement.GetProperty("tags").EnumerateArray(), t => Assert.Contains(t.GetString(), new[] { "a", "b c" }));
            }
        }
    }

    [Fact]
    public void Eos_is_allowed_only_where_the_output_may_end()
    {
        var matcher = deepSeek.Vocabulary.Grammar("""{"type":"integer"}""").NewMatcher();
        var logits = new float[DeepSeekVocabulary.LogitsSize];
        matcher.Apply(logits, 100);
        Assert.True(float.IsNegativeInfinity(logits[deepSeek.Eos]));
        Assert.False(float.IsNegativeInfinity(logits[deepSeek.Tokenizer.Encode("7", addBos: false)[0]]));
        Assert.True(float.IsNegativeInfinity(logits[deepSeek.Tokenizer.Encode("x", addBos: false)[0]]));
        Assert.True(matcher.Advance(deepSeek.Tokenizer.Encode("7", addBos: false)[0]));
        Array.Clear(logits);
        matcher.Apply(logits, 100);
        Assert.False(float.IsNegativeInfinity(logits[deepSeek.Eos]));
        Assert.False(matcher.IsComplete); // more digits may follow
        Assert.False(matcher.Advance(deepSeek.Tokenizer.Encode("x", addBos: false)[0]));
    }

    [Fact]
    public void A_tight_budget_leaves_only_tokens_that_close_in_time()
    {
        var matcher = deepSeek.Vocabulary.Grammar(ByteAutomaton.JsonObjectSchema).NewMatcher();
        foreach (int t in deepSeek.Tokenizer.Encode("""{"key":"val""", addBos: false)) Assert.True(matcher.Advance(t));
        var logits = new float[DeepSeekVocabulary.LogitsSize];
        matcher.Apply(logits, 2); // two tokens left: `"` (or `="`, `."`…) then `}`, or `"}` now
        var allowed = Enumerable.Range(0, logits.Length).Where(i => !float.IsNegativeInfinity(logits[i]))
            .Select(i => Encoding.UTF8.GetString(deepSeek.Vocabulary.Bytes(i))).ToHashSet();
        Assert.Contains("\"", allowed);
        Assert.Contains("\"}", allowed);
        Assert.DoesNotContain("ue", allowed);
        Assert.True(allowed.All(a => a.Contains('"')), string.Join(" ", allowed.Select(a => $"[{a}]"))); // each closes the string now
    }
}
