using System.Text.Json.Nodes;

namespace DeepSeekMesh.Tokenizers.Tests;

/// <summary>lstrip / rstrip / single_word / normalized handling of added tokens, as HF's AddedVocabulary.</summary>
public class AddedTokenTests
{
    private static Tokenizer With(params JsonObject[] tokens)
    {
        using var mini = new MiniTokenizer();
        var arr = mini.Json["added_tokens"]!.AsArray();
        foreach (var t in tokens)
        {
            arr.Add(t);
        }
        return mini.Load();
    }

    private static int[] Bytes(Tokenizer tok, string s) => tok.Encode(s, addBos: false);

    [Fact]
    public void PlainAddedTokenKeepsSurroundingSpaces()
    {
        var tok = With(MiniTokenizer.AddedTokenJson(310, "<x>"));
        var ids = tok.Encode("a <x> b", addBos: false);
        Assert.Contains(310, ids);
        Assert.Equal("a <x> b", tok.Decode(ids));
        Assert.Equal(Bytes(tok, "a ").Concat(new[] { 310 }).Concat(Bytes(tok, " b")), ids);
    }

    [Fact]
    public void LStripAndRStripSwallowWhitespace()
    {
        var tok = With(MiniTokenizer.AddedTokenJson(310, "<x>", lstrip: true, rstrip: true));
        Assert.Equal(Bytes(tok, "a").Concat(new[] { 310 }).Concat(Bytes(tok, "b")), tok.Encode("a  \t<x>\n b", addBos: false));
    }

    [Fact]
    public void SingleWordOnlyMatchesAtWordBoundaries()
    {
        var tok = With(MiniTokenizer.AddedTokenJson(310, "ab", singleWord: true));
        Assert.Equal(Bytes(tok, "x ").Concat(new[] { 310 }).Concat(Bytes(tok, " y")), tok.Encode("x ab y", addBos: false));
        Assert.DoesNotContain(310, tok.Encode("xab y", addBos: false));
        Assert.DoesNotContain(310, tok.Encode("x abc", addBos: false));
    }

    [Fact]
    public void LongestMatchWinsAtTheSamePosition()
    {
        var tok = With(MiniTokenizer.AddedTokenJson(310, "<a"), MiniTokenizer.AddedTokenJson(311, "<ab>"));
        Assert.Equal(new[] { 311 }, tok.Encode("<ab>", addBos: false));
        Assert.Equal(new[] { 310 }.Concat(Bytes(tok, "c")), tok.Encode("<ac", addBos: false));
    }

    [Fact]
    public void NonNormalizedTokensAreSplitBeforeNormalizedOnes()
    {
        // HF splits on normalized=false tokens first; "bc" (raw) wins over the earlier-starting "ab" (normalized).
        var tok = With(MiniTokenizer.AddedTokenJson(310, "ab", special: false, normalized: true), MiniTokenizer.AddedTokenJson(311, "bc"));
        Assert.Equal(Bytes(tok, "a").Concat(new[] { 311 }), tok.Encode("abc", addBos: false));
    }
}
