using System.Text;

namespace DeepSeekMesh.Text.Agents;

/// <summary>
/// Splits an R1-style model's output, fed as text deltas, into reasoning and answer, as vLLM's
/// <c>deepseek_r1</c> reasoning parser does: the output starts in reasoning (R1's chat template
/// opens <c>&lt;think&gt;</c> in the prompt, so the model may or may not write it); a first
/// <c>&lt;think&gt;</c> before <c>&lt;/think&gt;</c> is dropped; everything up to <c>&lt;/think&gt;</c>
/// is reasoning, everything after it is answer; without <c>&lt;/think&gt;</c> all of it is reasoning.
/// A tag split across deltas is held back until it is whole (never shown as text).
/// </summary>
public sealed class ReasoningParser
{
    public const string StartTag = "<think>";
    public const string EndTag = "</think>";

    readonly StringBuilder _pending = new();
    bool _reasoning = true;
    bool _startSeen;

    /// <summary>True once <c>&lt;/think&gt;</c> was seen: the rest is answer.</summary>
    public bool ReasoningEnded => !_reasoning;

    /// <summary>The reasoning and answer text that <paramref name="text"/> makes safe to show (possibly both empty).</summary>
    public ReasoningDelta Push(string text)
    {
        if (!_reasoning) return new("", text);
        _pending.Append(text);
        var buffer = _pending.ToString();
        int end = buffer.IndexOf(EndTag, StringComparison.Ordinal);
        if (!_startSeen)
        {
            int start = buffer.IndexOf(StartTag, StringComparison.Ordinal);
            if (start >= 0 && (end < 0 || start < end))
            {
                buffer = buffer.Remove(start, StartTag.Length);
                _startSeen = true;
                end = buffer.IndexOf(EndTag, StringComparison.Ordinal);
            }
        }
        _pending.Clear();
        if (end >= 0)
        {
            _reasoning = false;
            return new(buffer[..end], buffer[(end + EndTag.Length)..]);
        }
        int held = _startSeen ? PartialTag.HeldBack(buffer, EndTag) : PartialTag.HeldBack(buffer, EndTag, StartTag);
        _pending.Append(buffer, buffer.Length - held, held);
        return new(buffer[..^held], "");
    }

    /// <summary>At the end of generation: text held back as a possible tag is reasoning after all.</summary>
    public ReasoningDelta Finish()
    {
        var rest = _pending.ToString();
        _pending.Clear();
        return _reasoning ? new(rest, "") : new("", rest);
    }
}
