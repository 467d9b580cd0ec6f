using System.Text.Json.Nodes;

namespace DeepSeekMesh.Tokenizers.Tests;

public class MalformedTokenizerTests
{
    private static TokenizerFormatException Fails(Action<MiniTokenizer> breakIt)
    {
        using var mini = new MiniTokenizer();
        breakIt(mini);
        return Assert.Throws<TokenizerFormatException>(() => mini.Load());
    }

    [Fact]
    public void MiniTokenizerLoadsAndEncodes()
    {
        using var mini = new MiniTokenizer();
        var tok = mini.Load();
        Assert.Equal(new[] { 300, 258, 111, 259, 111 }, tok.Encode("hello wo", addBos: true));
        Assert.Equal(302, tok.VocabSize);
        Assert.Equal(300, tok.BosTokenId);
        Assert.Equal(301, tok.EosTokenId);
        Assert.Equal("{{ messages }}", tok.ChatTemplate);
        Assert.Equal("hello wo</s>", tok.Decode(new[] { 300, 258, 111, 259, 111, 301 }, skipSpecialTokens: false)[3..]);
    }

    [Fact]
    public void MissingDirectory()
    {
        var ex = Assert.Throws<DirectoryNotFoundException>(() => Tokenizer.FromDirectory("/nonexistent/dsm-tokenizer"));
        Assert.Contains("/nonexistent/dsm-tokenizer", ex.Message);
    }

    [Fact]
    public void MissingTokenizerJson()
    {
        using var mini = new MiniTokenizer();
        mini.Write();
        File.Delete(mini.TokenizerPath);
        var ex = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromDirectory(mini.Dir));
        Assert.Contains("tokenizer.json", ex.Message);
        Assert.Contains("not found", ex.Message);
    }

    [Fact]
    public void MissingConfig()
    {
        using var mini = new MiniTokenizer();
        mini.Write();
        File.Delete(mini.ConfigPath);
        var ex = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromDirectory(mini.Dir));
        Assert.Contains("tokenizer_config.json", ex.Message);
        Assert.Contains("not found", ex.Message);
    }

    [Fact]
    public void InvalidJson()
    {
        using var mini = new MiniTokenizer();
        mini.Write();
        File.WriteAllText(mini.TokenizerPath, "{ \"model\": ");
        var ex = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromDirectory(mini.Dir));
        Assert.Contains("tokenizer.json", ex.Message);
        Assert.Contains("invalid JSON", ex.Message);
    }

    [Fact]
    public void UnsupportedModelType()
    {
        var ex = Fails(m => m.Json["model"]!["type"] = "WordPiece");
        Assert.Equal("model.type", ex.Field);
        Assert.Contains("WordPiece", ex.Message);
        Assert.Contains("tokenizer.json", ex.Message);
    }

    [Fact]
    public void UnknownPreTokenizer()
    {
        var ex = Fails(m => m.Json["pre_tokenizer"]!["pretokenizers"]![0]!["type"] = "Whitespace");
        Assert.Equal("pre_tokenizer.pretokenizers[0].type", ex.Field);
        Assert.Contains("Whitespace", ex.Message);
    }

    [Fact]
    public void UnsupportedRegex()
    {
        var ex = Fails(m => m.Json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"] = new JsonObject { ["Regex"] = "a\\Kb" });
        Assert.Equal("pre_tokenizer.pretokenizers[0].pattern.Regex", ex.Field);
    }

    [Fact]
    public void UnknownSplitBehavior()
    {
        var ex = Fails(m => m.Json["pre_tokenizer"]!["pretokenizers"]![0]!["behavior"] = "Sideways");
        Assert.Equal("pre_tokenizer.pretokenizers[0].behavior", ex.Field);
    }

    [Fact]
    public void MissingByteLevel()
    {
        var ex = Fails(m => m.Json["pre_tokenizer"]!["pretokenizers"]!.AsArray().RemoveAt(1));
        Assert.Equal("pre_tokenizer", ex.Field);
        Assert.Contains("ByteLevel", ex.Message);
    }

    [Fact]
    public void UnsupportedNormalizerAndDecoder()
    {
        Assert.Equal("normalizer", Fails(m => m.Json["normalizer"] = new JsonObject { ["type"] = "NFKC" }).Field);
        Assert.Equal("decoder.type", Fails(m => m.Json["decoder"] = new JsonObject { ["type"] = "WordPiece" }).Field);
    }

    [Fact]
    public void MergeWithUnknownToken()
    {
        var ex = Fails(m => m.Json["model"]!["merges"]!.AsArray().Add("q zz"));
        Assert.Equal("model.merges[4]", ex.Field);
        Assert.Contains("'zz'", ex.Message);
    }

    [Fact]
    public void MalformedMergeEntry()
    {
        Assert.Equal("model.merges[4]", Fails(m => m.Json["model"]!["merges"]!.AsArray().Add("nospace")).Field);
        Assert.Equal("model.merges[4]", Fails(m => m.Json["model"]!["merges"]!.AsArray().Add(42)).Field);
    }

    [Fact]
    public void MissingVocabAndByteSymbols()
    {
        Assert.Equal("model.vocab", Fails(m => m.Json["model"]!.AsObject().Remove("vocab")).Field);
        Assert.Equal("model.vocab", Fails(m => m.Json["model"]!["vocab"]!.AsObject().Remove("Ā")).Field);
    }

    [Fact]
    public void BadAddedToken()
    {
        Assert.Equal("added_tokens[1].id", Fails(m => m.Json["added_tokens"]![1]!["id"] = "x").Field);
        Assert.Equal("added_tokens[0].content", Fails(m => m.Json["added_tokens"]![0]!.AsObject().Remove("content")).Field);
    }

    [Fact]
    public void BosTokenNotInVocabulary()
    {
        var ex = Fails(m => m.Config["bos_token"] = "<nope>");
        Assert.Equal("bos_token", ex.Field);
        Assert.Contains("tokenizer_config.json", ex.Message);
    }

    [Fact]
    public void BadConfigField()
    {
        Assert.Equal("add_bos_token", Fails(m => m.Config["add_bos_token"] = "yes").Field);
        Assert.Equal("chat_template", Fails(m => m.Config["chat_template"] = 5).Field);
    }
}
