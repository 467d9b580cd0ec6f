namespace DeepSeekMesh.Sampling;

/// <summary>
/// The token history of one sequence, kept in the form the penalties need:
/// the distinct tokens of prompt+output (repetition penalty) and the distinct output tokens with
/// their counts (frequency / presence penalties). <see cref="Append"/> is O(1) amortized, and the
/// per-step penalty cost is O(number of distinct tokens), never a rescan of the history.
/// Memory is proportional to the history, not to the vocabulary. Not thread-safe.
/// </summary>
public sealed class SequenceHistory
{
    // token id -> index into _distinctAll; the same index is used for the parallel arrays below.
    private readonly Dictionary<int, int> _index;
    private int[] _distinctAll = new int[16];
    private int[] _outputCountOf = new int[16];   // parallel to _distinctAll: output occurrences
    private int _distinctAllCount;

    // Distinct output tokens (ids) and their counts, contiguous for the penalty loops.
    private int[] _distinctOutput = new int[16];
    private int[] _distinctOutputCounts = new int[16];
    private int[] _outputSlotOf = new int[16];    // parallel to _distinctAll: index into _distinctOutput, -1 if none
    private int _distinctOutputCount;

    private int[] _output = new int[16];
    private int _outputLength;

    public SequenceHistory(int vocabSize, ReadOnlySpan<int> promptTokenIds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 1);
        VocabSize = vocabSize;
        PromptLength = promptTokenIds.Length;
        _index = new Dictionary<int, int>(Math.Min(promptTokenIds.Length + 64, vocabSize));
        foreach (int id in promptTokenIds)
        {
            CheckId(id);
            GetOrAddSlot(id);
        }
    }

    public int VocabSize { get; }

    /// <summary>Number of prompt tokens.</summary>
    public int PromptLength { get; }

    /// <summary>Number of generated tokens so far.</summary>
    public int OutputLength => _outputLength;

    /// <summary>The generated tokens, in order.</summary>
    public ReadOnlySpan<int> OutputTokenIds => _output.AsSpan(0, _outputLength);

    /// <summary>Every distinct token id seen in the prompt or the output (order of first appearance).</summary>
    public ReadOnlySpan<int> DistinctTokenIds => _distinctAll.AsSpan(0, _distinctAllCount);

    /// <summary>Every distinct token id generated so far (order of first appearance).</summary>
    public ReadOnlySpan<int> DistinctOutputTokenIds => _distinctOutput.AsSpan(0, _distinctOutputCount);

    /// <summary>Occurrence counts parallel to <see cref="DistinctOutputTokenIds"/>.</summary>
    public ReadOnlySpan<int> DistinctOutputCounts => _distinctOutputCounts.AsSpan(0, _distinctOutputCount);

    /// <summary>How many times <paramref name="tokenId"/> was generated.</summary>
    public int OutputCount(int tokenId) => _index.TryGetValue(tokenId, out int slot) ? _outputCountOf[slot] : 0;

    /// <summary>Whether <paramref name="tokenId"/> occurs in the prompt or the output.</summary>
    public bool Contains(int tokenId) => _index.ContainsKey(tokenId);

    /// <summary>Records one generated token. O(1) amortized.</summary>
    public void Append(int tokenId)
    {
        CheckId(tokenId);
        if (_outputLength == _output.Length)
            Array.Resize(ref _output, _output.Length * 2);
        _output[_outputLength++] = tokenId;

        int slot = GetOrAddSlot(tokenId);
        int count = ++_outputCountOf[slot];
        int outSlot = _outputSlotOf[slot];
        if (outSlot < 0)
        {
            if (_distinctOutputCount == _distinctOutput.Length)
            {
                Array.Resize(ref _distinctOutput, _distinctOutput.Length * 2);
                Array.Resize(ref _distinctOutputCounts, _distinctOutputCounts.Length * 2);
            }
            outSlot = _distinctOutputCount++;
            _distinctOutput[outSlot] = tokenId;
            _outputSlotOf[slot] = outSlot;
        }
        _distinctOutputCounts[outSlot] = count;
    }

    private int GetOrAddSlot(int tokenId)
    {
        if (_index.TryGetValue(tokenId, out int slot))
            return slot;
        if (_distinctAllCount == _distinctAll.Length)
        {
            int n = _distinctAll.Length * 2;
            Array.Resize(ref _distinctAll, n);
            Array.Resize(ref _outputCountOf, n);
            Array.Resize(ref _outputSlotOf, n);
        }
        slot = _distinctAllCount++;
        _distinctAll[slot] = tokenId;
        _outputCountOf[slot] = 0;
        _outputSlotOf[slot] = -1;
        _index.Add(tokenId, slot);
        return slot;
    }

    private void CheckId(int tokenId)
    {
        if ((uint)tokenId >= (uint)VocabSize)
            throw new ArgumentOutOfRangeException(nameof(tokenId), tokenId, $"Token id must be in [0, {VocabSize - 1}].");
    }
}
