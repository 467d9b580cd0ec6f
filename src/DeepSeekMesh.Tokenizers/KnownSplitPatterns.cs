namespace DeepSeekMesh.Tokenizers;

/// <summary><c>\p{N}{1,k}</c>: runs of at most k Unicode numbers (counted in code points).</summary>
internal sealed class NumberRunPattern : SplitPattern
{
    private readonly int _max;

    private NumberRunPattern(int max) => _max = max;

    public static bool TryParse(string pattern, out NumberRunPattern result)
    {
        result = null!;
        const string prefix = "\\p{N}{1,";
        if (!pattern.StartsWith(prefix, StringComparison.Ordinal) || !pattern.EndsWith('}'))
        {
            return false;
        }
        if (!int.TryParse(pattern.AsSpan(prefix.Length, pattern.Length - prefix.Length - 1), out int max) || max < 1)
        {
            return false;
        }
        result = new NumberRunPattern(max);
        return true;
    }

    public override bool NextMatch(ReadOnlySpan<char> piece, int from, out int start, out int end)
    {
        int i = from;
        while (i < piece.Length)
        {
            var f = UnicodeClass.At(piece, i, out int len);
            if ((f & UFlags.Number) != 0)
            {
                start = i;
                int count = 0;
                while (i < piece.Length && count < _max)
                {
                    f = UnicodeClass.At(piece, i, out len);
                    if ((f & UFlags.Number) == 0)
                    {
                        break;
                    }
                    i += len;
                    count++;
                }
                end = i;
                return true;
            }
            i += len;
        }
        start = end = 0;
        return false;
    }
}

/// <summary><c>[a-bcd...]+</c> with literal BMP characters and ranges only (e.g. the CJK run pattern).</summary>
internal sealed class CharSetRunPattern : SplitPattern
{
    private readonly (char Lo, char Hi)[] _ranges;

    private CharSetRunPattern((char Lo, char Hi)[] ranges) => _ranges = ranges;

    public static bool TryParse(string pattern, out CharSetRunPattern result)
    {
        result = null!;
        if (pattern.Length < 4 || pattern[0] != '[' || pattern[1] == '^' || !pattern.EndsWith("]+", StringComparison.Ordinal))
        {
            return false;
        }
        var body = pattern.AsSpan(1, pattern.Length - 3);
        var ranges = new List<(char, char)>();
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c == '\\' || c == '[' || c == ']' || char.IsSurrogate(c) || c == '-')
            {
                return false;
            }
            if (i + 2 < body.Length && body[i + 1] == '-')
            {
                char hi = body[i + 2];
                if (hi == '\\' || hi == '[' || hi == ']' || hi < c || (c <= '\uDFFF' && hi >= '\uD800'))
                {
                    return false;
                }
                ranges.Add((c, hi));
                i += 2;
            }
            else
            {
                ranges.Add((c, c));
            }
        }
        if (ranges.Count == 0)
        {
            return false;
        }
        result = new CharSetRunPattern(ranges.ToArray());
        return true;
    }

    private bool Contains(char c)
    {
        foreach (var (lo, hi) in _ranges)
        {
            if (c >= lo && c <= hi)
            {
                return true;
            }
        }
        return false;
    }

    public override bool NextMatch(ReadOnlySpan<char> piece, int from, out int start, out int end)
    {
        for (int i = from; i < piece.Length; i++)
        {
            if (Contains(piece[i]))
            {
                start = i;
                while (i < piece.Length && Contains(piece[i]))
                {
                    i++;
                }
                end = i;
                return true;
            }
        }
        start = end = 0;
        return false;
    }
}
