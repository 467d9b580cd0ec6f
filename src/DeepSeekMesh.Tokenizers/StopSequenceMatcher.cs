namespace DeepSeekMesh.Tokenizers;

/// <summary>Result of feeding one text delta to a <see cref="StopSequenceMatcher"/>.</summary>
/// <param name="Text">Text that is safe to emit now.</param>
/// <param name="Stopped">True when a stop sequence was found; <paramref name="Text"/> ends right before it.</param>
/// <param name="StopSequence">The stop sequence that matched, when <paramref name="Stopped"/>.</param>
public readonly record struct StopMatchResult(string Text, bool Stopped, string? StopSequence);

/// <summary>
/// Watches streamed text for stop strings, which may span several deltas. Text is held back only while it could
/// still be the beginning of a stop string; on a match, everything before the stop string is emitted and the stop
/// string itself (and anything after it) is dropped. Matching is ordinal; the earliest occurrence wins, and at the
/// same position the stop string listed first.
/// </summary>
public sealed class StopSequenceMatcher
{
    private readonly string[] _stops;
    private string _held = string.Empty;

    public StopSequenceMatcher(IEnumerable<string> stopSequences)
    {
        ArgumentNullException.ThrowIfNull(stopSequences);
        _stops = stopSequences.ToArray();
        foreach (var s in _stops)
        {
            if (string.IsNullOrEmpty(s))
            {
                throw new ArgumentException("Stop sequences must be non-empty strings.", nameof(stopSequences));
            }
        }
    }

    public IReadOnlyList<string> StopSequences => _stops;

    /// <summary>True once a stop sequence has been seen; further input is ignored.</summary>
    public bool IsStopped { get; private set; }

    public string? MatchedStopSequence { get; private set; }

    /// <summary>Text currently held back because it may be the start of a stop sequence.</summary>
    public string HeldText => _held;

    public StopMatchResult Process(string delta)
    {
        ArgumentNullException.ThrowIfNull(delta);
        if (IsStopped)
        {
            return new StopMatchResult(string.Empty, true, MatchedStopSequence);
        }
        string buffer = _held.Length == 0 ? delta : _held + delta;
        int bestAt = -1;
        string? best = null;
        foreach (var stop in _stops)
        {
            int at = buffer.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (bestAt < 0 || at < bestAt))
            {
                bestAt = at;
                best = stop;
            }
        }
        if (best is not null)
        {
            IsStopped = true;
            MatchedStopSequence = best;
            _held = string.Empty;
            return new StopMatchResult(buffer[..bestAt], true, best);
        }
        int hold = LongestSuffixThatPrefixesAStop(buffer);
        _held = buffer[(buffer.Length - hold)..];
        return new StopMatchResult(buffer[..(buffer.Length - hold)], false, null);
    }

    /// <summary>End of stream: returns the held text (it did not turn into a stop sequence).</summary>
    public string Flush()
    {
        if (IsStopped)
        {
            return string.Empty;
        }
        string s = _held;
        _held = string.Empty;
        return s;
    }

    public void Reset()
    {
        _held = string.Empty;
        IsStopped = false;
        MatchedStopSequence = null;
    }

    private int LongestSuffixThatPrefixesAStop(string buffer)
    {
        int best = 0;
        foreach (var stop in _stops)
        {
            // A full occurrence was ruled out, so only proper prefixes matter.
            for (int len = Math.Min(stop.Length - 1, buffer.Length); len > best; len--)
            {
                if (buffer.AsSpan(buffer.Length - len).SequenceEqual(stop.AsSpan(0, len)))
                {
                    best = len;
                    break;
                }
            }
        }
        return best;
    }
}
