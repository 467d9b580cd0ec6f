using System.Globalization;
using System.Runtime.CompilerServices;


namespace DeepSeekMesh.Tokenizers;

/// <summary>Unicode property flags of a code point, as the pre-tokenizer regexes see them.</summary>
[Flags]
internal enum UFlags : byte
{
    None = 0,
    Letter = 1,       // \p{L}
    Mark = 2,         // \p{M}
    Number = 4,       // \p{N}
    Punct = 8,        // \p{P}
    Symbol = 16,      // \p{S}
    Space = 32,       // \s (Unicode White_Space)
    Word = 64,        // \w as the Rust regex crate defines it (alphabetic, marks, decimal digits, connector punctuation, joiners)
}

/// <summary>
/// Code-point classification working on UTF-16 text. Unlike .NET's Regex (which classifies UTF-16 code units),
/// characters outside the BMP are classified by their real code point, as Oniguruma / Rust do on UTF-8.
/// A lone surrogate is treated as U+FFFD, which is what it becomes once the text is encoded to UTF-8.
/// </summary>
internal static class UnicodeClass
{
    private static readonly UFlags[] Bmp = BuildTable();

    public static UFlags OfCategory(UnicodeCategory cat)
    {
        switch (cat)
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.LowercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                return UFlags.Letter | UFlags.Word;
            case UnicodeCategory.NonSpacingMark:
            case UnicodeCategory.SpacingCombiningMark:
            case UnicodeCategory.EnclosingMark:
                return UFlags.Mark | UFlags.Word;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
                return UFlags.Number | UFlags.Word;
            case UnicodeCategory.OtherNumber:
                return UFlags.Number;
            case UnicodeCategory.ConnectorPunctuation:
                return UFlags.Punct | UFlags.Word;
            case UnicodeCategory.DashPunctuation:
            case UnicodeCategory.OpenPunctuation:
            case UnicodeCategory.ClosePunctuation:
            case UnicodeCategory.InitialQuotePunctuation:
            case UnicodeCategory.FinalQuotePunctuation:
            case UnicodeCategory.OtherPunctuation:
                return UFlags.Punct;
            case UnicodeCategory.MathSymbol:
            case UnicodeCategory.CurrencySymbol:
            case UnicodeCategory.ModifierSymbol:
            case UnicodeCategory.OtherSymbol:
                return UFlags.Symbol;
            default:
                return UFlags.None;
        }
    }

    /// <summary>Unicode White_Space property (identical to .NET's \s set).</summary>
    public static bool IsWhiteSpaceCodePoint(int cp) =>
        (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
        (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;

    public static UFlags OfCodePoint(int cp)
    {
        if (cp < 0x10000 && !(cp >= 0xD800 && cp <= 0xDFFF))
        {
            return Bmp[cp];
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
        {
            return Bmp[0xFFFD];
        }
        return OfCategory(CharUnicodeInfo.GetUnicodeCategory(cp));
    }

    /// <summary>Flags of the code point starting at <paramref name="i"/>; <paramref name="length"/> gets its UTF-16 length.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static UFlags At(ReadOnlySpan<char> s, int i, out int length)
    {
        char c = s[i];
        if (!char.IsSurrogate(c))
        {
            length = 1;
            return Bmp[c];
        }
        return AtSurrogate(s, i, out length);
    }

    private static UFlags AtSurrogate(ReadOnlySpan<char> s, int i, out int length)
    {
        if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        {
            length = 2;
            return OfCategory(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(s[i], s[i + 1])));
        }
        length = 1;
        return Bmp[0xFFFD];
    }

    /// <summary>UTF-16 length of the code point starting at <paramref name="i"/> (1 for lone surrogates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CodePointLength(ReadOnlySpan<char> s, int i) =>
        char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]) ? 2 : 1;

    private static UFlags[] BuildTable()
    {
        var table = new UFlags[0x10000];
        for (int cp = 0; cp < 0x10000; cp++)
        {
            if (cp >= 0xD800 && cp <= 0xDFFF)
            {
                continue;
            }
            var f = OfCategory(CharUnicodeInfo.GetUnicodeCategory((char)cp));
            if (IsWhiteSpaceCodePoint(cp))
            {
                f |= UFlags.Space;
            }
            if (cp == 0x200C || cp == 0x200D)
            {
                f |= UFlags.Word;
            }
            table[cp] = f;
        }
        return table;
    }

    /// <summary>Rust regex \w approximation for one code point at <paramref name="i"/>.</summary>
    public static bool IsWordAt(ReadOnlySpan<char> s, int i) => (At(s, i, out _) & UFlags.Word) != 0;

    /// <summary>Index of the first code point of the last code point in s (s non-empty).</summary>
    public static int LastCodePointStart(ReadOnlySpan<char> s)
    {
        int i = s.Length - 1;
        if (i > 0 && char.IsLowSurrogate(s[i]) && char.IsHighSurrogate(s[i - 1]))
        {
            i--;
        }
        return i;
    }

}
