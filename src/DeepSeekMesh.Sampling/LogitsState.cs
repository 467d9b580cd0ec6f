namespace DeepSeekMesh.Sampling;

/// <summary>
/// The working logits of one sampling step, transformed in place by <see cref="ILogitsProcessor"/>s.
/// <para>
/// Dense form: every token is a candidate, and a removed token has logit -inf.
/// Truncated form (after top-k / top-p): only <see cref="CandidateIds"/> are candidates; the dense
/// <see cref="Logits"/> keep their values for all tokens but non-candidates are ignored, which avoids an O(vocab)
/// masking pass. A processor must honour both forms.
/// </para>
/// Buffers are reused across steps (a state is used by one thread at a time).
/// </summary>
public sealed class LogitsState
{
    private float[] _logits;
    private float[] _scratch;
    private float[] _scratch2;
    private double[] _blockSums;
    private int[] _candidates;
    private Candidate[] _pairs;
    private int _candidateCount;

    public LogitsState(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _logits = new float[capacity];
        _scratch = new float[capacity];
        _scratch2 = new float[capacity];
        _blockSums = new double[(capacity + VectorMath.BlockSize - 1) / VectorMath.BlockSize];
        _candidates = new int[capacity];
        _pairs = new Candidate[capacity];
    }

    /// <summary>Creates a state holding a copy of <paramref name="logits"/>.</summary>
    public LogitsState(ReadOnlySpan<float> logits) : this(Math.Max(1, logits.Length))
    {
        Load(logits);
    }

    /// <summary>Vocabulary size of the loaded logits.</summary>
    public int VocabSize { get; private set; }

    /// <summary>The dense working logits (length <see cref="VocabSize"/>).</summary>
    public Span<float> Logits => _logits.AsSpan(0, VocabSize);

    /// <summary>True once a truncation (top-k, top-p) has replaced the dense form with a candidate list.</summary>
    public bool IsTruncated { get; private set; }

    /// <summary>The candidate token ids when <see cref="IsTruncated"/>; empty otherwise.</summary>
    public ReadOnlySpan<int> CandidateIds => IsTruncated ? _candidates.AsSpan(0, _candidateCount) : default;

    /// <summary>True when <see cref="CandidateIds"/> are ordered by descending logit (ties: lower id first).</summary>
    public bool CandidatesSortedDescending { get; private set; }

    /// <summary>Copies <paramref name="logits"/> in and resets to the dense form. Grows buffers when needed.</summary>
    public void Load(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("Logits must not be empty.", nameof(logits));
        EnsureCapacity(logits.Length);
        VocabSize = logits.Length;
        logits.CopyTo(_logits);
        IsTruncated = false;
        CandidatesSortedDescending = false;
        _candidateCount = 0;
    }

    /// <summary>Replaces the candidate set (truncated form). Ids must be distinct and inside the vocabulary.</summary>
    public void SetCandidates(ReadOnlySpan<int> ids, bool sortedDescending)
    {
        ids.CopyTo(_candidates);
        _candidateCount = ids.Length;
        IsTruncated = true;
        CandidatesSortedDescending = sortedDescending;
    }

    /// <summary>Largest logit among the candidates (-inf when none remains).</summary>
    public float MaxLogit()
    {
        if (!IsTruncated) return VectorMath.Max(Logits);
        float m = float.NegativeInfinity;
        var lg = _logits;
        foreach (int id in CandidateIds) m = MathF.Max(m, lg[id]);
        return m;
    }

    internal float[] RawLogits => _logits;
    internal float[] Scratch => _scratch;
    internal float[] Scratch2 => _scratch2;
    internal double[] BlockSums => _blockSums;
    internal Candidate[] Pairs => _pairs;
    internal int[] CandidateBuffer => _candidates;

    /// <summary>Sets the truncated form from <see cref="CandidateBuffer"/>[0..count).</summary>
    internal void CommitCandidates(int count, bool sortedDescending)
    {
        _candidateCount = count;
        IsTruncated = true;
        CandidatesSortedDescending = sortedDescending;
    }

    /// <summary>Sorts the candidate list by descending logit (ties: lower id) if it is not already.</summary>
    internal void SortCandidates()
    {
        if (!IsTruncated || CandidatesSortedDescending) return;
        int n = _candidateCount;
        var pairs = _pairs.AsSpan(0, n);
        var lg = _logits;
        for (int i = 0; i < n; i++)
        {
            int id = _candidates[i];
            pairs[i] = new Candidate(lg[id], id);
        }
        pairs.Sort(new DescendingCandidateComparer());
        for (int i = 0; i < n; i++) _candidates[i] = pairs[i].Id;
        CandidatesSortedDescending = true;
    }

    private void EnsureCapacity(int n)
    {
        if (_logits.Length >= n) return;
        _logits = new float[n];
        _scratch = new float[n];
        _scratch2 = new float[n];
        _blockSums = new double[(n + VectorMath.BlockSize - 1) / VectorMath.BlockSize];
        _candidates = new int[n];
        _pairs = new Candidate[n];
    }
}
