using System.Text;
using System.Text.RegularExpressions;

namespace DeepSeekMesh.Tokenizers.Tests;

/// <summary>
/// The hand-written code-point matchers must agree with the .NET Regex translation of the same patterns on BMP
/// text (where .NET and Oniguruma classify characters the same), and classify non-BMP characters by code point.
/// </summary>
public class PreTokenizerTests
{
    private static readonly string Alphabet =
        "aZqX  \t\r\n\n\r  \u00a0\u3000\u2003" +
        "0159０９٣" +                         // ASCII, fullwidth and Arabic-Indic digits
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" +
        "éü\u0301\u0308\u0903" +            // letters and combining marks
        "中文日本語ひらがなカタカナー한국어Яж" +
        "€©°±½²™\u200b\u200d\ufeff\u0007\u00ad" +
        "“”‘’…—–·";

    private static string RandomText(Random rng, int length)
    {
        var sb = new StringBuilder(length);
        for (int i = 0; i < length; i++)
        {
            sb.Append(Alphabet[rng.Next(Alphabet.Length)]);
        }
        return sb.ToString();
    }

    private static List<(int, int)> AllMatches(SplitPattern p, string s)
    {
        var list = new List<(int, int)>();
        int pos = 0;
        while (pos < s.Length && p.NextMatch(s, pos, out int a, out int b))
        {
            list.Add((a, b));
            pos = b;
        }
        return list;
    }

    private static List<(int, int)> RegexMatches(Regex r, string s) =>
        r.Matches(s).Where(m => m.Length > 0).Select(m => (m.Index, m.Index + m.Length)).ToList();

    private static string[] SplitPatternsOfFile() =>
    [
        "\\p{N}{1,3}",
        "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
        DeepSeekWordPattern.Source,
    ];

    [Fact]
    public void LoadedTokenizerUsesHandWrittenMatchers()
    {
        var steps = RepoFiles.DeepSeek.PreTokenizerPipeline.Steps;
        Assert.Equal(3, steps.Count);
        Assert.IsType<NumberRunPattern>(steps[0].Pattern);
        Assert.IsType<CharSetRunPattern>(steps[1].Pattern);
        Assert.IsType<DeepSeekWordPattern>(steps[2].Pattern);
        Assert.All(steps, s => Assert.Equal(SplitBehavior.Isolated, s.Behavior));
    }

    [Fact]
    public void HandWrittenMatchersAgreeWithDotNetRegexOnBmpText()
    {
        var rng = new Random(12345);
        foreach (var pattern in SplitPatternsOfFile())
        {
            var fast = SplitPattern.FromRegex(pattern);
            Assert.IsNotType<RegexSplitPattern>(fast);
            var regex = new Regex(RegexSplitPattern.OnigToDotNet(pattern), RegexOptions.CultureInvariant);
            for (int iter = 0; iter < 3000; iter++)
            {
                string s = RandomText(rng, rng.Next(1, 40));
                Assert.True(RegexMatches(regex, s).SequenceEqual(AllMatches(fast, s)), $"pattern #{pattern.Length} differs on {Escape(s)}");
            }
        }
    }

    [Fact]
    public void NonBmpCharactersAreClassifiedByCodePoint()
    {
        var numbers = SplitPattern.FromRegex("\\p{N}{1,3}");
        // U+1D7D8.. MATHEMATICAL DOUBLE-STRUCK DIGITs are Nd: runs of at most 3 code points (6 UTF-16 units).
        Assert.Equal(new[] { (0, 6), (6, 10) }, AllMatches(numbers, "𝟘𝟙𝟚𝟛𝟜"));

        var words = new DeepSeekWordPattern();
        // Mathematical fraktur letters are \p{L}: one word with the leading space.
        Assert.Equal(new[] { (0, 1), (1, 12) }, AllMatches(words, "x 𝔘𝔫𝔦𝔠𝔬"));
        // Emoji are \p{S}: " ?[\p{P}\p{S}]+" takes the space and the whole run, including the Sk skin tone.
        Assert.Equal(new[] { (0, 5), (5, 6), (6, 15) }, AllMatches(words, "Emoji: 😀👍🏽🎉"));
    }

    [Fact]
    public void OnigTranslationHandlesPossessiveAndHex()
    {
        Assert.Equal("(?>a+)", RegexSplitPattern.OnigToDotNet("a++"));
        Assert.Equal("(?>[a-z]+)b", RegexSplitPattern.OnigToDotNet("[a-z]++b"));
        Assert.Equal("(?>(ab)*)", RegexSplitPattern.OnigToDotNet("(ab)*+"));
        Assert.Equal("[0-9a-fA-F]+", RegexSplitPattern.OnigToDotNet("\\h+"));
        Assert.Equal("\\P{L}", RegexSplitPattern.OnigToDotNet("\\p{^L}"));
        Assert.Equal(DeepSeekWordPattern.Source, RegexSplitPattern.OnigToDotNet(DeepSeekWordPattern.Source));
        Assert.Throws<NotSupportedException>(() => RegexSplitPattern.OnigToDotNet("a\\Kb"));
    }

    [Fact]
    public void SplitBehaviorsFollowHuggingFace()
    {
        static string[] Run(SplitBehavior behavior)
        {
            var step = new SplitStep(SplitPattern.FromLiteral("-"), behavior);
            var output = new RangeList(4);
            const string text = "the-final--countdown";
            step.Apply(text, 0, text.Length, ref output);
            return Enumerable.Range(0, output.Count).Select(i => text[output[i].Start..output[i].End]).ToArray();
        }
        Assert.Equal(new[] { "the", "-", "final", "-", "-", "countdown" }, Run(SplitBehavior.Isolated));
        Assert.Equal(new[] { "the", "final", "countdown" }, Run(SplitBehavior.Removed));
        Assert.Equal(new[] { "the-", "final-", "-", "countdown" }, Run(SplitBehavior.MergedWithPrevious));
        Assert.Equal(new[] { "the", "-final", "-", "-countdown" }, Run(SplitBehavior.MergedWithNext));
        Assert.Equal(new[] { "the", "-", "final", "--", "countdown" }, Run(SplitBehavior.Contiguous));
    }

    private static string Escape(string s) =>
        string.Concat(s.Select(c => c < 128 && !char.IsControl(c) ? c.ToString() : $"\\u{(int)c:x4}"));
}
