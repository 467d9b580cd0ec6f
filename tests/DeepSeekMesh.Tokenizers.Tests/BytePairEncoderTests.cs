using System.Text;

namespace DeepSeekMesh.Tokenizers.Tests;

public class BytePairEncoderTests
{
    [Fact]
    public void HeapAndScanMergeLoopsAgree()
    {
        var bpe = RepoFiles.DeepSeek.Bpe;
        var rng = new Random(7);
        string[] samples =
        [
            "internationalization", " aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ThisIsAVeryLongCamelCaseIdentifierName",
            "中文日本語ひらがなカタカナ", "           ", "😀👍🏽🎉🧑‍💻", "ababababababababababababab",
        ];
        var inputs = samples.Select(s => Encoding.UTF8.GetBytes(s)).ToList();
        for (int i = 0; i < 300; i++)
        {
            var bytes = new byte[rng.Next(1, 120)];
            if (i % 2 == 0)
            {
                rng.NextBytes(bytes);
            }
            else
            {
                for (int k = 0; k < bytes.Length; k++)
                {
                    bytes[k] = (byte)"etaoin shrdlu"[rng.Next(13)];
                }
            }
            inputs.Add(bytes);
        }
        foreach (var bytes in inputs)
        {
            var a = new int[bytes.Length];
            var b = new int[bytes.Length];
            int na = bpe.EncodeSmall(bytes, a);
            int nb = bpe.EncodeLarge(bytes, b);
            Assert.Equal(a.AsSpan(0, na).ToArray(), b.AsSpan(0, nb).ToArray());
        }
    }

    [Fact]
    public void LongPiecesEncodeAndRoundTrip()
    {
        var tok = RepoFiles.DeepSeek;
        string text = string.Concat(Enumerable.Repeat("abcdefghij", 500)); // one 5000-char pre-token
        var ids = tok.Encode(text, addBos: false);
        Assert.True(ids.Length < 2500);
        Assert.Equal(text, tok.Decode(ids));
    }
}
