using System.Text;
using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>Python str helpers that count in code points rather than UTF-16 units.</summary>
internal static class PyString
{
    public static bool HasSurrogates(string s)
    {
        foreach (char c in s)
        {
            if (char.IsSurrogate(c)) return true;
        }
        return false;
    }

    public static int Length(string s)
    {
        if (!HasSurrogates(s)) return s.Length;
        int n = 0;
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            n++;
        }
        return n;
    }

    /// <summary>The string split into code points (each a 1- or 2-char string).</summary>
    public static List<string> CodePoints(string s)
    {
        var list = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                list.Add(s.Substring(i, 2));
                i++;
            }
            else
            {
                list.Add(s[i].ToString());
            }
        }
        return list;
    }

    public static List<Value> Chars(string s)
    {
        var list = new List<Value>(s.Length);
        foreach (var cp in CodePoints(s)) list.Add(new StringValue(cp));
        return list;
    }

    /// <summary>Python whitespace (str.isspace()).</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        int start = 0, end = s.Length;
        Func<char, bool> strip = chars is null ? IsSpace : c => chars.Contains(c);
        if (left) while (start < end && strip(s[start])) start++;
        if (right) while (end > start && strip(s[end - 1])) end--;
        return s[start..end];
    }

    /// <summary>Python str.replace including the empty-pattern case.</summary>
    public static string Replace(string s, string old, string replacement, long count)
    {
        if (count < 0)
        {
            if (old.Length > 0) return s.Replace(old, replacement, StringComparison.Ordinal);
            count = long.MaxValue;
        }

        var sb = new StringBuilder();
        if (old.Length == 0)
        {
            var cps = CodePoints(s);
            long done = 0;
            for (int i = 0; i <= cps.Count; i++)
            {
                if (done < count) { sb.Append(replacement); done++; }
                if (i < cps.Count) sb.Append(cps[i]);
            }
            return sb.ToString();
        }

        int pos = 0;
        long n = 0;
        while (n < count)
        {
            int idx = s.IndexOf(old, pos, StringComparison.Ordinal);
            if (idx < 0) break;
            sb.Append(s, pos, idx - pos).Append(replacement);
            pos = idx + old.Length;
            n++;
        }
        sb.Append(s, pos, s.Length - pos);
        return sb.ToString();
    }

    /// <summary>Python str.split / str.rsplit.</summary>
    public static List<Value> Split(string s, string? sep, long maxSplit, bool fromRight)
    {
        var parts = new List<string>();
        if (maxSplit < 0) maxSplit = long.MaxValue;
        if (sep is null)
        {
            // Runs of whitespace separate; leading/trailing whitespace is ignored.
            if (!fromRight)
            {
                int i = 0;
                while (true)
                {
                    while (i < s.Length && IsSpace(s[i])) i++;
                    if (i >= s.Length) break;
                    if (parts.Count == maxSplit)
                    {
                        int end = s.Length;
                        while (end > i && IsSpace(s[end - 1])) end--;
                        parts.Add(s[i..end]);
                        break;
                    }
                    int st = i;
                    while (i < s.Length && !IsSpace(s[i])) i++;
                    parts.Add(s[st..i]);
                }
            }
            else
            {
                int i = s.Length;
                while (true)
                {
                    while (i > 0 && IsSpace(s[i - 1])) i--;
                    if (i <= 0) break;
                    if (parts.Count == maxSplit)
                    {
                        int st0 = 0;
                        while (st0 < i && IsSpace(s[st0])) st0++;
                        parts.Add(s[st0..i]);
                        break;
                    }
                    int end = i;
                    while (i > 0 && !IsSpace(s[i - 1])) i--;
                    parts.Add(s[i..end]);
                }
                parts.Reverse();
            }
        }
        else
        {
            if (sep.Length == 0) throw new TemplateException("empty separator");
            if (!fromRight)
            {
                int pos = 0;
                while (parts.Count < maxSplit)
                {
                    int idx = s.IndexOf(sep, pos, StringComparison.Ordinal);
                    if (idx < 0) break;
                    parts.Add(s[pos..idx]);
                    pos = idx + sep.Length;
                }
                parts.Add(s[pos..]);
            }
            else
            {
                int end = s.Length;
                while (parts.Count < maxSplit && end >= sep.Length)
                {
                    int idx = s.LastIndexOf(sep, end - 1, end, StringComparison.Ordinal);
                    if (idx < 0) break;
                    parts.Add(s[(idx + sep.Length)..end]);
                    end = idx;
                }
                parts.Add(s[..end]);
                parts.Reverse();
            }
        }

        var result = new List<Value>(parts.Count);
        foreach (var p in parts) result.Add(StringValue.Of(p));
        return result;
    }

    /// <summary>Python str.splitlines() (without keepends).</summary>
    public static List<string> SplitLines(string s)
    {
        var lines = new List<string>();
        int start = 0;
        int i = 0;
        while (i < s.Length)
        {
            char c = s[i];
            bool isBreak = c is '\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029';
            if (!isBreak) { i++; continue; }
            lines.Add(s[start..i]);
            i += c == '\r' && i + 1 < s.Length && s[i + 1] == '\n' ? 2 : 1;
            start = i;
        }
        if (start < s.Length) lines.Add(s[start..]);
        return lines;
    }

    /// <summary>Python str.title(): a letter after a non-letter is upper-cased, other letters lower-cased.</summary>
    public static string PyTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevCased = false;
        foreach (char c in s)
        {
            if (char.IsLetter(c))
            {
                sb.Append(prevCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
                prevCased = true;
            }
            else
            {
                sb.Append(c);
                prevCased = false;
            }
        }
        return sb.ToString();
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>Python str.center.</summary>
    public static string Center(string s, int width, char fill = ' ')
    {
        int len = Length(s);
        if (width <= len) return s;
        int marg = width - len;
        int left = marg / 2 + (marg & width & 1);
        return new string(fill, left) + s + new string(fill, marg - left);
    }
}
