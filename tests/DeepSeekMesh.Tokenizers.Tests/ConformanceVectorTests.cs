using System.Text.Json;

namespace DeepSeekMesh.Tokenizers.Tests;

/// <summary>Every vector of tests/conformance/tokenizer/vectors.json, exactly.</summary>
public class ConformanceVectorTests
{
    private static Tokenizer Tok => RepoFiles.DeepSeek;

    private static JsonElement[] EncodeVectors => RepoFiles.Vectors.GetProperty("encode").EnumerateArray().ToArray();

    private static JsonElement[] ChatVectors => RepoFiles.Vectors.GetProperty("chat").EnumerateArray().ToArray();

    public static TheoryData<int> EncodeIndexes()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < EncodeVectors.Length; i++)
        {
            data.Add(i);
        }
        return data;
    }

    public static TheoryData<int> ChatIndexes()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < ChatVectors.Length; i++)
        {
            data.Add(i);
        }
        return data;
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();

    [Fact]
    public void VectorFileHasVectors()
    {
        Assert.True(EncodeVectors.Length >= 10, $"expected encode vectors, found {EncodeVectors.Length}");
        Assert.True(ChatVectors.Length >= 1, $"expected chat vectors, found {ChatVectors.Length}");
    }

    [Theory]
    [MemberData(nameof(EncodeIndexes))]
    public void EncodeMatchesIds(int index)
    {
        var v = EncodeVectors[index];
        string text = v.GetProperty("text").GetString()!;
        Assert.Equal(Ints(v.GetProperty("ids")), Tok.Encode(text, addBos: false));
    }

    [Theory]
    [MemberData(nameof(EncodeIndexes))]
    public void EncodeWithBosMatchesIdsWithBos(int index)
    {
        var v = EncodeVectors[index];
        string text = v.GetProperty("text").GetString()!;
        Assert.Equal(Ints(v.GetProperty("ids_with_bos")), Tok.Encode(text, addBos: true));
        Assert.Equal(Ints(v.GetProperty("ids_with_bos")), Tok.Encode(text)); // add_bos_token=true in the config
    }

    [Theory]
    [MemberData(nameof(EncodeIndexes))]
    public void DecodeMatchesDecoded(int index)
    {
        var v = EncodeVectors[index];
        Assert.Equal(v.GetProperty("decoded").GetString(), Tok.Decode(Ints(v.GetProperty("ids"))));
    }

    [Theory]
    [MemberData(nameof(ChatIndexes))]
    public void ChatRenderingEncodesToIds(int index)
    {
        var v = ChatVectors[index];
        string rendered = v.GetProperty("rendered").GetString()!;
        int[] ids = Ints(v.GetProperty("ids"));
        Assert.Equal(ids, Tok.Encode(rendered, addBos: false));
        Assert.Equal(rendered, Tok.Decode(ids));
    }
}
