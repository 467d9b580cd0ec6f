using System.Buffers;

namespace DeepSeekMesh.Tokenizers;

/// <summary>
/// Finds added tokens written literally in the input, as HF's AddedVocabulary does: leftmost-longest
/// non-overlapping matches; first the tokens with <c>normalized=false</c> on the raw text, then the
/// <c>normalized=true</c> tokens inside the remaining gaps. Honours <c>single_word</c>, <c>lstrip</c>, <c>rstrip</c>.
/// </summary>
internal sealed class AddedTokenSplitter
{
    private readonly TokenSet _raw;
    private readonly TokenSet _normalized;

    public AddedTokenSplitter(IEnumerable<AddedToken> tokens)
    {
        var list = tokens.Where(t => t.Content.Length > 0).ToList();
        _raw = new TokenSet(list.Where(t => !t.Normalized));
        _normalized = new TokenSet(list.Where(t => t.Normalized));
    }

    /// <summary>A piece of the input: either an added token (Id ≥ 0) or plain text to pre-tokenize (Id = -1).</summary>
    public readonly record struct Segment(int Id, int Start, int End);

    /// <summary>Splits <paramref name="text"/> into plain-text and added-token segments, in order.</summary>
    public void Split(ReadOnlySpan<char> text, List<Segment> output)
    {
        output.Clear();
        if (!_raw.MayOccurIn(text) && !_normalized.MayOccurIn(text))
        {
            output.Add(new Segment(-1, 0, text.Length));
            return;
        }
        var first = new List<Segment>();
        _raw.Find(text, 0, text.Length, first);
        foreach (var seg in first)
        {
            if (seg.Id >= 0)
            {
                output.Add(seg);
            }
            else
            {
                _normalized.Find(text, seg.Start, seg.End, output);
            }
        }
    }

    private sealed class TokenSet
    {
        private readonly Dictionary<char, AddedToken[]> _byFirstChar = new();
        private readonly SearchValues<char> _firstChars;

        public TokenSet(IEnumerable<AddedToken> tokens)
        {
            foreach (var g in tokens.GroupBy(t => t.Content[0]))
            {
                // Longest first, so the first candidate that matches is the leftmost-longest match.
                _byFirstChar[g.Key] = g.OrderByDescending(t => t.Content.Length).ToArray();
            }
            _firstChars = SearchValues.Create(_byFirstChar.Keys.ToArray());
        }

        public bool MayOccurIn(ReadOnlySpan<char> text) => _byFirstChar.Count > 0 && text.IndexOfAny(_firstChars) >= 0;

        /// <summary>Segments text[start..end); matches are searched within that window only.</summary>
        public void Find(ReadOnlySpan<char> text, int start, int end, List<Segment> output)
        {
            var window = text[..end];
            int scan = start;        // where the next search starts (end of the previous raw match)
            int emitted = start;     // end of what has been emitted so far
            while (scan < end)
            {
                int rel = window[scan..].IndexOfAny(_firstChars);
                if (rel < 0)
                {
                    break;
                }
                int at = scan + rel;
                var token = MatchAt(window, at);
                if (token is null)
                {
                    scan = at + 1;
                    continue;
                }
                int mStart = at;
                int mEnd = at + token.Content.Length;
                scan = mEnd;
                if (token.SingleWord)
                {
                    bool startOk = mStart == start || !UnicodeClass.IsWordAt(window, UnicodeClass.LastCodePointStart(window[start..mStart]) + start);
                    bool endOk = mEnd == end || !UnicodeClass.IsWordAt(window, mEnd);
                    if (!startOk || !endOk)
                    {
                        continue;
                    }
                }
                if (token.LStrip)
                {
                    int s = mStart;
                    while (s > start && (UnicodeClass.At(window, s - 1, out _) & UFlags.Space) != 0)
                    {
                        s--;
                    }
                    mStart = Math.Max(s, emitted);
                }
                if (token.RStrip)
                {
                    while (mEnd < end && (UnicodeClass.At(window, mEnd, out _) & UFlags.Space) != 0)
                    {
                        mEnd++;
                    }
                }
                mStart = Math.Max(mStart, emitted);
                if (emitted < mStart)
                {
                    output.Add(new Segment(-1, emitted, mStart));
                }
                output.Add(new Segment(token.Id, mStart, mEnd));
                emitted = mEnd;
                scan = Math.Max(scan, mEnd);
            }
            if (emitted < end)
            {
                output.Add(new Segment(-1, emitted, end));
            }
        }

        private AddedToken? MatchAt(ReadOnlySpan<char> window, int at)
        {
            if (!_byFirstChar.TryGetValue(window[at], out var candidates))
            {
                return null;
            }
            var rest = window[at..];
            foreach (var t in candidates)
            {
                if (rest.StartsWith(t.Content.AsSpan(), StringComparison.Ordinal))
                {
                    return t;
                }
            }
            return null;
        }
    }
}
