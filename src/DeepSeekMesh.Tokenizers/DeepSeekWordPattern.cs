namespace DeepSeekMesh.Tokenizers;

/// <summary>
/// Hand-written matcher for the main DeepSeek-V3 pre-tokenizer regex (<see cref="Source"/>), reproducing
/// Oniguruma's backtracking semantics alternative by alternative, on code points:
/// <code>
/// A1 [!"#$%&amp;'()*+,\-./:;&lt;=&gt;?@\[\\\]^_`{|}~][A-Za-z]+
/// A2 [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+
/// A3  ?[\p{P}\p{S}]+[\r\n]*
/// A4 \s*[\r\n]+
/// A5 \s+(?!\S)
/// A6 \s+
/// </code>
/// The first alternative that matches at a position wins (leftmost-first, not longest).
/// </summary>
internal sealed class DeepSeekWordPattern : SplitPattern
{
    public const string Source =
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+";

    private const UFlags LetterOrMark = UFlags.Letter | UFlags.Mark;
    private const UFlags PunctOrSymbol = UFlags.Punct | UFlags.Symbol;

    public override bool NextMatch(ReadOnlySpan<char> piece, int from, out int start, out int end)
    {
        int i = from;
        while (i < piece.Length)
        {
            int e = MatchAt(piece, i, out int len);
            if (e > i)
            {
                start = i;
                end = e;
                return true;
            }
            i += len;
        }
        start = end = 0;
        return false;
    }

    private static bool IsAsciiPunct(char c) =>
        (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');

    private static bool IsCrLf(char c) => c == '\r' || c == '\n';

    /// <summary>Returns the match end at <paramref name="p"/>, or <paramref name="p"/> when nothing matches there.</summary>
    internal static int MatchAt(ReadOnlySpan<char> s, int p, out int firstLength)
    {
        int n = s.Length;
        char c0 = s[p];
        var f0 = UnicodeClass.At(s, p, out firstLength);

        // A1: one ASCII punctuation char followed by ASCII letters.
        if (c0 < 128 && IsAsciiPunct(c0) && p + 1 < n && char.IsAsciiLetter(s[p + 1]))
        {
            int e = p + 2;
            while (e < n && char.IsAsciiLetter(s[e]))
            {
                e++;
            }
            return e;
        }

        // A2: optional char that is not CR/LF/L/P/S, then letters/marks.
        if (!IsCrLf(c0) && (f0 & (UFlags.Letter | PunctOrSymbol)) == 0)
        {
            int q = p + firstLength;
            if (q < n && (UnicodeClass.At(s, q, out _) & LetterOrMark) != 0)
            {
                return RunOf(s, q, LetterOrMark);
            }
        }
        if ((f0 & LetterOrMark) != 0)
        {
            return RunOf(s, p, LetterOrMark);
        }

        // A3: optional space, punctuation/symbols, then CR/LF.
        if (c0 == ' ' && p + 1 < n && (UnicodeClass.At(s, p + 1, out _) & PunctOrSymbol) != 0)
        {
            return RunOfCrLf(s, RunOf(s, p + 1, PunctOrSymbol));
        }
        if ((f0 & PunctOrSymbol) != 0)
        {
            return RunOfCrLf(s, RunOf(s, p, PunctOrSymbol));
        }

        if ((f0 & UFlags.Space) != 0)
        {
            // All White_Space code points are in the BMP, so chars == code points here.
            int e = p + 1;
            while (e < n && (UnicodeClass.At(s, e, out _) & UFlags.Space) != 0)
            {
                e++;
            }
            // A4: \s* backs off to the last CR/LF of the run; [\r\n]+ then takes just that one.
            for (int q = e - 1; q >= p; q--)
            {
                if (IsCrLf(s[q]))
                {
                    return q + 1;
                }
            }
            // A5: at the end of the piece the whole run; otherwise give back one whitespace (needs 2+).
            if (e == n)
            {
                return e;
            }
            if (e - p >= 2)
            {
                return e - 1;
            }
            // A6.
            return e;
        }
        return p;
    }

    private static int RunOf(ReadOnlySpan<char> s, int i, UFlags mask)
    {
        while (i < s.Length)
        {
            var f = UnicodeClass.At(s, i, out int len);
            if ((f & mask) == 0)
            {
                break;
            }
            i += len;
        }
        return i;
    }

    private static int RunOfCrLf(ReadOnlySpan<char> s, int i)
    {
        while (i < s.Length && IsCrLf(s[i]))
        {
            i++;
        }
        return i;
    }
}
