using System.Text;

namespace DeepSeekMesh.Tokenizers;

/// <summary>
/// Turns a growing sequence of token ids into text deltas. Bytes of a UTF-8 character split across tokens are held
/// until the character is complete, so no U+FFFD is emitted mid-stream for an incomplete sequence; bytes that can
/// never become valid are emitted as U+FFFD right away. The concatenation of all deltas plus <see cref="Flush"/>
/// equals <see cref="Tokenizer.Decode"/> of all ids.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly Tokenizer _tokenizer;
    private byte[] _pending = new byte[16];
    private int _pendingCount;

    public StreamingDetokenizer(Tokenizer tokenizer, bool skipSpecialTokens = false)
    {
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        SkipSpecialTokens = skipSpecialTokens;
    }

    public bool SkipSpecialTokens { get; }

    /// <summary>Number of ids consumed so far.</summary>
    public int TokenCount { get; private set; }

    /// <summary>Adds one id; returns the text that became complete (possibly empty).</summary>
    public string Push(int id)
    {
        Append(id);
        return TakeComplete();
    }

    /// <summary>Adds several ids; returns the text that became complete (possibly empty).</summary>
    public string Push(ReadOnlySpan<int> ids)
    {
        foreach (int id in ids)
        {
            Append(id);
        }
        return TakeComplete();
    }

    /// <summary>
    /// Consumes the ids of <paramref name="allIds"/> not seen yet (for callers holding the whole growing sequence).
    /// </summary>
    public string Update(IReadOnlyList<int> allIds)
    {
        ArgumentNullException.ThrowIfNull(allIds);
        if (allIds.Count < TokenCount)
        {
            throw new ArgumentException("The id sequence shrank; call Reset() for a new sequence.", nameof(allIds));
        }
        for (int i = TokenCount; i < allIds.Count; i++)
        {
            Append(allIds[i]);
        }
        return TakeComplete();
    }

    /// <summary>End of stream: returns whatever is held, incomplete bytes decoded as U+FFFD (as HF decode does).</summary>
    public string Flush()
    {
        string s = Encoding.UTF8.GetString(_pending, 0, _pendingCount);
        _pendingCount = 0;
        return s;
    }

    public void Reset()
    {
        _pendingCount = 0;
        TokenCount = 0;
    }

    private void Append(int id)
    {
        TokenCount++;
        if (SkipSpecialTokens && _tokenizer.IsSpecialToken(id))
        {
            return;
        }
        var bytes = _tokenizer.GetTokenBytes(id);
        if (_pendingCount + bytes.Length > _pending.Length)
        {
            Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _pendingCount + bytes.Length));
        }
        bytes.CopyTo(_pending.AsSpan(_pendingCount));
        _pendingCount += bytes.Length;
    }

    private string TakeComplete()
    {
        int keep = Utf8Tail.IncompleteSuffixLength(_pending.AsSpan(0, _pendingCount));
        int emit = _pendingCount - keep;
        if (emit == 0)
        {
            return string.Empty;
        }
        string s = Encoding.UTF8.GetString(_pending, 0, emit);
        _pending.AsSpan(emit, keep).CopyTo(_pending);
        _pendingCount = keep;
        return s;
    }
}

/// <summary>UTF-8 helpers for streaming.</summary>
internal static class Utf8Tail
{
    /// <summary>
    /// Length of the trailing bytes that form a valid but incomplete UTF-8 sequence (a prefix that more bytes could
    /// complete), or 0. Everything before it decodes the same now as it would with more bytes appended.
    /// </summary>
    public static int IncompleteSuffixLength(ReadOnlySpan<byte> bytes)
    {
        int n = bytes.Length;
        // The lead byte of an incomplete sequence is at most 3 bytes from the end.
        for (int back = 1; back <= Math.Min(3, n); back++)
        {
            byte b = bytes[n - back];
            if ((b & 0xC0) == 0x80)
            {
                continue; // continuation byte, keep looking for the lead
            }
            int need = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
            if (need <= back)
            {
                return 0; // ASCII, invalid lead, or a complete sequence
            }
            if (back >= 2 && !SecondByteOk(b, bytes[n - back + 1]))
            {
                return 0; // can never complete; decoded as U+FFFD now
            }
            return back;
        }
        return 0;
    }

    private static bool SecondByteOk(byte lead, byte second) => lead switch
    {
        0xE0 => second >= 0xA0 && second <= 0xBF,
        0xED => second >= 0x80 && second <= 0x9F,
        0xF0 => second >= 0x90 && second <= 0xBF,
        0xF4 => second >= 0x80 && second <= 0x8F,
        _ => second >= 0x80 && second <= 0xBF,
    };
}
