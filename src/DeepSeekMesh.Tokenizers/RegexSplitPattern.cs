using System.Text;
using System.Text.RegularExpressions;

namespace DeepSeekMesh.Tokenizers;

/// <summary>
/// Fallback for Split regexes we have no hand-written matcher for: the Oniguruma pattern is translated to a .NET Regex.
/// Limitation: .NET classifies UTF-16 code units, so \p{..} classes never match characters outside the BMP
/// (Oniguruma classifies the code point). Patterns used by DeepSeek-V3 never take this path.
/// </summary>
internal sealed class RegexSplitPattern : SplitPattern
{
    private readonly Regex _regex;

    public RegexSplitPattern(string onigPattern)
    {
        string translated = OnigToDotNet(onigPattern);
        _regex = new Regex(translated, RegexOptions.CultureInvariant | RegexOptions.Compiled);
    }

    public string DotNetPattern => _regex.ToString();

    public override bool NextMatch(ReadOnlySpan<char> piece, int from, out int start, out int end)
    {
        while (from <= piece.Length)
        {
            foreach (var m in _regex.EnumerateMatches(piece, from))
            {
                if (m.Length == 0)
                {
                    // Empty matches produce no piece; keep searching one char further.
                    from = m.Index + 1;
                    goto next;
                }
                start = m.Index;
                end = m.Index + m.Length;
                return true;
            }
            break;
        next:;
        }
        start = end = 0;
        return false;
    }

    /// <summary>
    /// Translates the Oniguruma (Ruby syntax) constructs that differ in .NET: possessive quantifiers
    /// (<c>x*+ x++ x?+ x{n,m}+</c>) become atomic groups, <c>\h</c>/<c>\H</c> (hex digit) become classes and
    /// <c>\p{^X}</c> becomes <c>\P{X}</c>. Throws <see cref="NotSupportedException"/> on constructs .NET cannot express.
    /// </summary>
    public static string OnigToDotNet(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 16);
        var atomStarts = new Stack<int>(); // open-group start indexes in sb
        int lastAtomStart = -1;
        int i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == '\\')
            {
                if (i + 1 >= pattern.Length)
                {
                    throw new NotSupportedException($"Regex '{pattern}' ends with a lone backslash.");
                }
                lastAtomStart = sb.Length;
                i = AppendEscape(pattern, i, sb, inClass: false);
                continue;
            }
            if (c == '[')
            {
                lastAtomStart = sb.Length;
                i = AppendClass(pattern, i, sb);
                continue;
            }
            if (c == '(')
            {
                atomStarts.Push(sb.Length);
                sb.Append(c);
                i++;
                lastAtomStart = -1;
                continue;
            }
            if (c == ')')
            {
                sb.Append(c);
                i++;
                lastAtomStart = atomStarts.Count > 0 ? atomStarts.Pop() : throw new NotSupportedException($"Unbalanced ')' in regex '{pattern}'.");
                continue;
            }
            if (c is '*' or '+' or '?' or '{')
            {
                int qEnd = i + 1;
                if (c == '{')
                {
                    int close = pattern.IndexOf('}', i);
                    if (close < 0)
                    {
                        sb.Append(c);
                        i++;
                        continue;
                    }
                    qEnd = close + 1;
                }
                string quant = pattern[i..qEnd];
                if (qEnd < pattern.Length && pattern[qEnd] == '+' && lastAtomStart >= 0)
                {
                    // Possessive quantifier: (?>atom quant)
                    sb.Insert(lastAtomStart, "(?>");
                    sb.Append(quant).Append(')');
                    i = qEnd + 1;
                    lastAtomStart = -1;
                    continue;
                }
                sb.Append(quant);
                i = qEnd;
                if (i < pattern.Length && pattern[i] == '?')
                {
                    sb.Append('?');
                    i++;
                }
                lastAtomStart = -1;
                continue;
            }
            lastAtomStart = c is '|' or '^' or '$' ? -1 : sb.Length;
            sb.Append(c);
            i++;
        }
        return sb.ToString();
    }

    private static int AppendEscape(string pattern, int i, StringBuilder sb, bool inClass)
    {
        char e = pattern[i + 1];
        switch (e)
        {
            case 'h':
                sb.Append(inClass ? "0-9a-fA-F" : "[0-9a-fA-F]");
                return i + 2;
            case 'H':
                if (inClass)
                {
                    throw new NotSupportedException($"\\H inside a character class is not supported (regex '{pattern}').");
                }
                sb.Append("[^0-9a-fA-F]");
                return i + 2;
            case 'p':
            case 'P':
                if (i + 2 < pattern.Length && pattern[i + 2] == '{')
                {
                    int close = pattern.IndexOf('}', i + 3);
                    if (close < 0)
                    {
                        throw new NotSupportedException($"Unterminated \\p{{ in regex '{pattern}'.");
                    }
                    string name = pattern[(i + 3)..close];
                    bool negate = e == 'P';
                    if (name.StartsWith('^'))
                    {
                        negate = !negate;
                        name = name[1..];
                    }
                    sb.Append('\\').Append(negate ? 'P' : 'p').Append('{').Append(name).Append('}');
                    return close + 1;
                }
                break;
            case 'A':
            case 'z':
            case 'Z':
            case 'G':
            case 'b':
            case 'B':
            case 'd':
            case 'D':
            case 's':
            case 'S':
            case 'w':
            case 'W':
                break;
            case 'K':
            case 'R':
            case 'X':
            case 'g':
            case 'k':
            case 'y':
            case 'Y':
            case 'O':
                throw new NotSupportedException($"Oniguruma escape \\{e} has no .NET translation (regex '{pattern}').");
        }
        sb.Append('\\').Append(e);
        return i + 2;
    }

    private static int AppendClass(string pattern, int i, StringBuilder sb)
    {
        // Copies a [...] class, translating escapes; nested classes (Onig set operations) are rejected.
        sb.Append('[');
        i++;
        if (i < pattern.Length && pattern[i] == '^')
        {
            sb.Append('^');
            i++;
        }
        bool first = true;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == ']' && !first)
            {
                sb.Append(']');
                return i + 1;
            }
            if (c == '\\' && i + 1 < pattern.Length)
            {
                i = AppendEscape(pattern, i, sb, inClass: true);
            }
            else if (c == '[')
            {
                throw new NotSupportedException($"Nested character classes / set operations are not supported (regex '{pattern}').");
            }
            else if (c == '&' && i + 1 < pattern.Length && pattern[i + 1] == '&')
            {
                throw new NotSupportedException($"Character class intersection '&&' is not supported (regex '{pattern}').");
            }
            else
            {
                sb.Append(c);
                i++;
            }
            first = false;
        }
        throw new NotSupportedException($"Unterminated character class in regex '{pattern}'.");
    }
}
