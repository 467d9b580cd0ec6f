namespace DeepSeekMesh.Tokenizers.Tests;

public class StreamingDetokenizerTests
{
    private static Tokenizer Tok => RepoFiles.DeepSeek;

    public static TheoryData<string> Texts() => new()
    {
        "你好，世界！今天天气很好。",
        "日本語のテキストとカタカナ、ひらがな。",
        "Emoji: 😀👍🏽🎉",
        "Family: 👨‍👩‍👧‍👦 and flag 🇯🇵",
        "Café naïve résumé coöperate",
        "안녕하세요 세계 नमस्ते दुनिया สวัสดีชาวโลก",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟘𝟙𝟚 🧑‍💻 ∑ x² — end",
        "<｜User｜>混合 text 🎉<｜Assistant｜>ok<｜end▁of▁sentence｜>",
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void OneIdAtATimeEqualsFullDecode(string text)
    {
        foreach (bool skip in new[] { false, true })
        {
            var ids = Tok.Encode(text, addBos: true);
            var detok = new StreamingDetokenizer(Tok, skip);
            var sb = new System.Text.StringBuilder();
            foreach (int id in ids)
            {
                string delta = detok.Push(id);
                Assert.DoesNotContain('\uFFFD', delta);
                Assert.False(delta.Length > 0 && char.IsHighSurrogate(delta[^1]), "delta ends inside a surrogate pair");
                sb.Append(delta);
            }
            sb.Append(detok.Flush());
            Assert.Equal(Tok.Decode(ids, skip), sb.ToString());
        }
    }

    [Fact]
    public void MultiByteCharactersReallyAreSplitAcrossTokens()
    {
        // Guard for the test above: at least one id must produce an empty delta (bytes held back).
        var ids = Tok.Encode("Emoji: 😀👍🏽🎉 你好", addBos: false);
        var detok = new StreamingDetokenizer(Tok);
        Assert.Contains(ids, id => detok.Push(id).Length == 0);
    }

    [Fact]
    public void UpdateConsumesOnlyNewIds()
    {
        var ids = Tok.Encode("streaming 🎉 text", addBos: false);
        var detok = new StreamingDetokenizer(Tok);
        var sb = new System.Text.StringBuilder();
        for (int n = 1; n <= ids.Length; n++)
        {
            sb.Append(detok.Update(ids.Take(n).ToList()));
        }
        sb.Append(detok.Flush());
        Assert.Equal("streaming 🎉 text", sb.ToString());
        Assert.Equal(ids.Length, detok.TokenCount);
    }

    [Fact]
    public void InvalidBytesMatchHfDecodeAtTheEnd()
    {
        int a = Tok.TokenToId("a")!.Value;
        int lead3 = Tok.TokenToId("â")!.Value;  // byte 0xE2: lead of a 3-byte sequence
        int cont = Tok.TokenToId("Ģ")!.Value;   // byte 0x82: continuation
        int[][] cases =
        [
            [a, lead3, cont],          // incomplete at the end -> U+FFFD on flush
            [a, lead3, cont, a],       // broken by 'a' -> U+FFFD then 'a'
            [cont, cont, a],           // stray continuation bytes -> emitted right away
            [lead3, lead3, cont, cont], // first lead broken by the second, second completes? no: E2 E2 82 82
        ];
        foreach (var ids in cases)
        {
            var detok = new StreamingDetokenizer(Tok);
            string streamed = string.Concat(ids.Select(detok.Push)) + detok.Flush();
            Assert.Equal(Tok.Decode(ids), streamed);
        }
        var d = new StreamingDetokenizer(Tok);
        Assert.Equal("a", d.Push(a));
        Assert.Equal("", d.Push(lead3));
        Assert.Equal("", d.Push(cont));
        Assert.Equal("\uFFFD", d.Flush());
    }

    [Fact]
    public void Utf8TailDetection()
    {
        Assert.Equal(0, Utf8Tail.IncompleteSuffixLength("abc"u8));
        Assert.Equal(1, Utf8Tail.IncompleteSuffixLength(new byte[] { 0x61, 0xE4 }));
        Assert.Equal(2, Utf8Tail.IncompleteSuffixLength(new byte[] { 0xE4, 0xBD }));
        Assert.Equal(0, Utf8Tail.IncompleteSuffixLength(new byte[] { 0xE4, 0xBD, 0xA0 }));
        Assert.Equal(3, Utf8Tail.IncompleteSuffixLength(new byte[] { 0xF0, 0x9F, 0x98 }));
        Assert.Equal(0, Utf8Tail.IncompleteSuffixLength(new byte[] { 0xE0, 0x80 }));  // overlong: never valid
        Assert.Equal(0, Utf8Tail.IncompleteSuffixLength(new byte[] { 0xED, 0xA0 }));  // surrogate: never valid
        Assert.Equal(0, Utf8Tail.IncompleteSuffixLength(new byte[] { 0x80, 0x80, 0x80 }));
    }
}
