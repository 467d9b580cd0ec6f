namespace DeepSeekMesh.Tokenizers;

/// <summary>How a Split pre-tokenizer treats its matches (HF <c>SplitDelimiterBehavior</c>).</summary>
internal enum SplitBehavior
{
    Isolated,
    Removed,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>One HF <c>Split</c> step: a pattern plus how matches and the gaps between them become pieces.</summary>
internal sealed class SplitStep
{
    public SplitStep(SplitPattern pattern, SplitBehavior behavior)
    {
        Pattern = pattern;
        Behavior = behavior;
    }

    public SplitPattern Pattern { get; }

    public SplitBehavior Behavior { get; }

    /// <summary>Splits text[start..end) and appends the resulting non-empty pieces to <paramref name="output"/>.</summary>
    public void Apply(ReadOnlySpan<char> text, int start, int end, ref RangeList output)
    {
        var piece = text[start..end];
        int pos = 0;
        int pendingStart = -1; // MergedWithNext: start of a match waiting for the following gap
        int lastMatchEnd = -1; // Contiguous: end of the previous match piece
        while (pos < piece.Length && Pattern.NextMatch(piece, pos, out int ms, out int me))
        {
            bool hasGap = ms > pos;
            switch (Behavior)
            {
                case SplitBehavior.Isolated:
                    if (hasGap)
                    {
                        output.Add(start + pos, start + ms);
                    }
                    output.Add(start + ms, start + me);
                    break;
                case SplitBehavior.Removed:
                    if (hasGap)
                    {
                        output.Add(start + pos, start + ms);
                    }
                    break;
                case SplitBehavior.MergedWithPrevious:
                    output.Add(start + pos, start + me);
                    break;
                case SplitBehavior.MergedWithNext:
                    if (pendingStart >= 0)
                    {
                        output.Add(start + pendingStart, start + ms);
                    }
                    else if (hasGap)
                    {
                        output.Add(start + pos, start + ms);
                    }
                    pendingStart = ms;
                    break;
                case SplitBehavior.Contiguous:
                    if (hasGap)
                    {
                        output.Add(start + pos, start + ms);
                        output.Add(start + ms, start + me);
                    }
                    else if (lastMatchEnd == ms && output.Count > 0)
                    {
                        output.ExtendLast(start + me);
                    }
                    else
                    {
                        output.Add(start + ms, start + me);
                    }
                    lastMatchEnd = me;
                    break;
            }
            pos = me;
        }
        if (pendingStart >= 0)
        {
            output.Add(start + pendingStart, end);
        }
        else if (pos < piece.Length)
        {
            output.Add(start + pos, end);
        }
    }
}

/// <summary>
/// The pre-tokenizer of tokenizer.json: a sequence of Split steps applied piece by piece (HF <c>Sequence</c>
/// semantics: each step splits every piece produced by the previous step), followed by the ByteLevel step.
/// </summary>
internal sealed class PreTokenizer
{
    private readonly SplitStep[] _steps;

    public PreTokenizer(IReadOnlyList<SplitStep> steps) => _steps = steps.ToArray();

    public IReadOnlyList<SplitStep> Steps => _steps;

    /// <summary>Splits text[start..end) into pieces, written to <paramref name="output"/> (cleared first).</summary>
    public void Split(ReadOnlySpan<char> text, int start, int end, ref RangeList output, ref RangeList scratch)
    {
        output.Clear();
        if (end <= start)
        {
            return;
        }
        output.Add(start, end);
        foreach (var step in _steps)
        {
            scratch.Clear();
            for (int i = 0; i < output.Count; i++)
            {
                var (s, e) = output[i];
                step.Apply(text, s, e, ref scratch);
            }
            (output, scratch) = (scratch, output);
        }
    }
}

/// <summary>A growable list of [start, end) ranges backed by one int array.</summary>
internal struct RangeList
{
    private int[] _data;

    public RangeList(int capacity) => _data = new int[Math.Max(2, capacity * 2)];

    public int Count { get; private set; }

    public readonly (int Start, int End) this[int i] => (_data[2 * i], _data[2 * i + 1]);

    public void Clear() => Count = 0;

    public void Add(int start, int end)
    {
        if (end <= start)
        {
            return;
        }
        if (2 * Count + 2 > _data.Length)
        {
            Array.Resize(ref _data, _data.Length * 2);
        }
        _data[2 * Count] = start;
        _data[2 * Count + 1] = end;
        Count++;
    }

    public readonly void ExtendLast(int end) => _data[2 * Count - 1] = end;
}
