namespace DeepSeekMesh.Tokenizers;

/// <summary>
/// A pattern of an HF <c>Split</c> pre-tokenizer: finds successive non-overlapping matches inside one piece,
/// with Oniguruma <c>find_iter</c> semantics (leftmost match, search resumes at the previous match's end).
/// </summary>
internal abstract class SplitPattern
{
    /// <summary>Finds the first match that starts at or after <paramref name="from"/>.</summary>
    public abstract bool NextMatch(ReadOnlySpan<char> piece, int from, out int start, out int end);

    /// <summary>
    /// Builds the matcher for a regex from tokenizer.json. Patterns we recognise get a hand-written code-point matcher
    /// (exact on characters outside the BMP, and fast); anything else is translated to a .NET Regex.
    /// </summary>
    public static SplitPattern FromRegex(string pattern)
    {
        if (pattern == DeepSeekWordPattern.Source)
        {
            return new DeepSeekWordPattern();
        }
        if (NumberRunPattern.TryParse(pattern, out var numbers))
        {
            return numbers;
        }
        if (CharSetRunPattern.TryParse(pattern, out var charSet))
        {
            return charSet;
        }
        return new RegexSplitPattern(pattern);
    }

    public static SplitPattern FromLiteral(string literal) => new LiteralSplitPattern(literal);
}

/// <summary>Split on an exact string (HF <c>{"String": "..."}</c> patterns).</summary>
internal sealed class LiteralSplitPattern : SplitPattern
{
    private readonly string _literal;

    public LiteralSplitPattern(string literal)
    {
        if (literal.Length == 0)
        {
            throw new ArgumentException("Empty split string.", nameof(literal));
        }
        _literal = literal;
    }

    public override bool NextMatch(ReadOnlySpan<char> piece, int from, out int start, out int end)
    {
        int i = piece[from..].IndexOf(_literal.AsSpan(), StringComparison.Ordinal);
        if (i < 0)
        {
            start = end = 0;
            return false;
        }
        start = from + i;
        end = start + _literal.Length;
        return true;
    }
}
