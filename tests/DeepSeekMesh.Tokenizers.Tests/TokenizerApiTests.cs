namespace DeepSeekMesh.Tokenizers.Tests;

public class TokenizerApiTests
{
    private static Tokenizer Tok => RepoFiles.DeepSeek;

    [Fact]
    public void ConfigPropertiesComeFromTokenizerConfig()
    {
        Assert.True(Tok.AddBosToken);
        Assert.Equal("<｜begin▁of▁sentence｜>", Tok.BosToken);
        Assert.Equal("<｜end▁of▁sentence｜>", Tok.EosToken);
        Assert.Equal(0, Tok.BosTokenId);
        Assert.Equal(1, Tok.EosTokenId);
        Assert.NotNull(Tok.ChatTemplate);
        Assert.StartsWith("{% if not add_generation_prompt is defined %}", Tok.ChatTemplate);
    }

    [Fact]
    public void VocabSizeCoversAddedTokens()
    {
        Assert.Equal(128815, Tok.VocabSize);
        Assert.Equal("<｜tool▁sep｜>", Tok.TokenToString(128814));
        Assert.Equal(128814, Tok.TokenToId("<｜tool▁sep｜>"));
        Assert.Null(Tok.TokenToString(128815));
        Assert.Null(Tok.TokenToString(-1));
        Assert.Null(Tok.TokenToId("definitely not a token"));
    }

    [Fact]
    public void TokenToStringUsesByteLevelForm()
    {
        int id = Tok.Encode(" world", addBos: false).Single();
        Assert.Equal("Ġworld", Tok.TokenToString(id));
        Assert.Equal(id, Tok.TokenToId("Ġworld"));
        Assert.Equal(" world"u8.ToArray(), Tok.GetTokenBytes(id).ToArray());
    }

    [Fact]
    public void SkipSpecialTokensDropsSpecialTokensOnly()
    {
        var ids = Tok.Encode("<｜User｜>Hi<｜Assistant｜>Hello<｜end▁of▁sentence｜>", addBos: true);
        Assert.Equal("<｜begin▁of▁sentence｜><｜User｜>Hi<｜Assistant｜>Hello<｜end▁of▁sentence｜>", Tok.Decode(ids));
        // In DeepSeek-V3's tokenizer.json only BOS/EOS/pad/placeholders/fim are special; <｜User｜> is not (special=false).
        Assert.Equal("<｜User｜>Hi<｜Assistant｜>Hello", Tok.Decode(ids, skipSpecialTokens: true));
        Assert.True(Tok.IsSpecialToken(0));
        Assert.False(Tok.IsSpecialToken(128814)); // <｜tool▁sep｜> is not special
    }

    [Fact]
    public void DecodeIgnoresIdsOutsideVocabulary()
    {
        var ids = Tok.Encode("Hello", addBos: false).Concat(new[] { 129279, -5 }).ToArray();
        Assert.Equal("Hello", Tok.Decode(ids));
    }

    [Fact]
    public void DecodeOfBrokenUtf8GivesReplacementCharacter()
    {
        // "é" is two bytes; a lone lead byte decodes to U+FFFD like HF's from_utf8_lossy.
        int lead = Tok.TokenToId("Ã")!.Value; // byte 0xC3
        Assert.Equal("a\uFFFD", Tok.Decode(new[] { Tok.TokenToId("a")!.Value, lead }));
    }

    [Fact]
    public void EncodeRoundTripsVariedText()
    {
        string[] texts =
        [
            "public static async Task<int> MainAsync(string[] args)\r\n{\r\n    return await Task.FromResult(42);\r\n}",
            "Ünïcödé — “quotes” … ½ ∑ x² 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟘𝟙𝟚𝟛𝟜 🧑‍💻",
            "   \n\n\t  mixed   whitespace \u3000\u00a0 end  ",
            new string('x', 5000),
            "\ud800 lone surrogate",
        ];
        foreach (var t in texts)
        {
            var ids = Tok.Encode(t, addBos: false);
            string expected = t.Replace("\ud800", "\uFFFD");
            Assert.Equal(expected, Tok.Decode(ids));
        }
    }

    [Fact]
    public void CacheDoesNotChangeResults()
    {
        string text = "The quick brown fox, the quick brown fox. Internationalization!";
        var first = Tok.Encode(text, addBos: false);
        Tok.ClearCache();
        Assert.Equal(first, Tok.Encode(text, addBos: false));
        Assert.Equal(first, Tok.Encode(text, addBos: false));
    }

    [Fact]
    public void ConcurrentEncodingIsConsistent()
    {
        string text = string.Concat(Enumerable.Range(0, 200).Select(i => $"word{i} value_{i * 7} ランダム{i} "));
        var expected = Tok.Encode(text, addBos: false);
        Parallel.For(0, 8, _ =>
        {
            for (int k = 0; k < 5; k++)
            {
                Assert.Equal(expected, Tok.Encode(text, addBos: false));
            }
        });
    }
}
