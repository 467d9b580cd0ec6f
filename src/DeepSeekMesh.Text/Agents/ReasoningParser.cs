using System.Text;

namespace DeepSeekMesh.Text.Agents;

/// <summary>
/// Splits an R1-style model's output, fed as text deltas, into reasoning and answer, as vLLM's
/// <c>deepseek_r1</c> reasoning parser does once reasoning has begun: a first <c>&lt;think&gt;</c> before
/// <c>&lt;/think&gt;</c> is dropped; everything up to <c>&lt;/think&gt;</c> is reasoning, everything after it
/// is answer; without <c>&lt;/think&gt;</c> all of it is reasoning. Reasoning begins at once when the prompt
/// opened <c>&lt;think&gt;</c> (R1's later chat template does), otherwise only when the output starts with
/// <c>&lt;think&gt;</c> (after whitespace); output that starts otherwise is all answer (vLLM would call it
/// reasoning, which turns an answer after tool results into reasoning). A tag split across deltas is held
/// back until it is whole (never shown as text).
/// </summary>
/// <param name="promptOpenedThink">The prompt ends with <c>&lt;think&gt;</c>: the output starts inside the reasoning.</param>
public sealed class ReasoningParser(bool promptOpenedThink = true)
{
    public const string StartTag = "<think>";
    public const string EndTag = "</think>";

    enum State { Undecided, Reasoning, Content }

    readonly StringBuilder _pending = new();
    State _state = promptOpenedThink ? State.Reasoning : State.Undecided;
    bool _startSeen;

    /// <summary>True once <c>&lt;/think&gt;</c> was seen: the rest is answer.</summary>
    public bool ReasoningEnded => _state == State.Content;

    /// <summary>The reasoning and answer text that <paramref name="text"/> makes safe to show (possibly both empty).</summary>
    public ReasoningDelta Push(string text)
    {
        if (_state == State.Content) return new("", text);
        _pending.Append(text);
        var buffer = _pending.ToString();
        if (_state == State.Undecided)
        {
            var opening = buffer.TrimStart();
            if (StartTag.StartsWith(opening, StringComparison.Ordinal)) return new("", ""); // whitespace or part of <think>: wait
            _pending.Clear();
            if (!opening.StartsWith(StartTag, StringComparison.Ordinal))
            {
                _state = State.Content;
                return new("", buffer);
            }
            _state = State.Reasoning;
            buffer = opening;
        }
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
            _state = State.Content;
            return new(buffer[..end], buffer[(end + EndTag.Length)..]);
        }
        int held = _startSeen ? PartialTag.HeldBack(buffer, EndTag) : PartialTag.HeldBack(buffer, EndTag, StartTag);
        _pending.Append(buffer, buffer.Length - held, held);
        return new(buffer[..^held], "");
    }

    /// <summary>At the end of generation: text held back as a possible tag is reasoning after all (answer when reasoning never began).</summary>
    public ReasoningDelta Finish()
    {
        var rest = _pending.ToString();
        _pending.Clear();
        return _state == State.Reasoning ? new(rest, "") : new("", rest);
    }
}
