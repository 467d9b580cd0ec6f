using System.Text;
using System.Text.Json;

namespace DeepSeekMesh.Text.Agents;

/// <summary>
/// Finds DeepSeek-V3's tool calls in the answer text, fed as deltas (after <see cref="ReasoningParser"/>):
/// <c>&lt;｜tool▁calls▁begin｜&gt;&lt;｜tool▁call▁begin｜&gt;function&lt;｜tool▁sep｜&gt;NAME\n```json\nARGUMENTS\n```&lt;｜tool▁call▁end｜&gt;</c>,
/// further calls after a newline, then <c>&lt;｜tool▁calls▁end｜&gt;</c> (the form DeepSeek-V3's chat template
/// writes). Text before the section is content, as in vLLM's <c>deepseek_v3</c> parser; text after it is dropped.
/// A call is emitted whole once its end token arrives and it checks out (type <c>function</c>, a one-line
/// name, arguments that parse as JSON); from the first malformed call on — or an unfinished one at the end —
/// the raw text goes to content instead (the whole section when no call was valid), so bad output is
/// shown, never lost and never an error.
/// </summary>
/// <param name="maxCalls">Calls beyond this many are dropped (<c>parallel_tool_calls: false</c> keeps one).</param>
public sealed class DeepSeekToolCallParser(int maxCalls = int.MaxValue)
{
    public const string CallsBegin = "<｜tool▁calls▁begin｜>";
    public const string CallsEnd = "<｜tool▁calls▁end｜>";
    public const string CallBegin = "<｜tool▁call▁begin｜>";
    public const string CallEnd = "<｜tool▁call▁end｜>";
    public const string Separator = "<｜tool▁sep｜>";

    enum State { Content, Calls, After, Malformed }

    readonly StringBuilder _buffer = new();
    State _state = State.Content;
    /// <summary>The section's raw text from its begin token on; the part before <see cref="_consumed"/> became valid calls.</summary>
    string _section = "";
    int _consumed;
    int _calls;

    /// <summary>The number of valid calls found so far (including dropped ones beyond the limit).</summary>
    public int CallCount => _calls;

    /// <summary>The content and complete calls that <paramref name="text"/> makes safe to emit.</summary>
    public ToolCallDelta Push(string text) => _state switch
    {
        State.Malformed => ToolCallDelta.Text(text),
        State.After => ToolCallDelta.Text(""),
        State.Content => InContent(text),
        _ => InCalls(text),
    };

    /// <summary>At the end of generation: held-back text, and an unfinished section as content.</summary>
    public ToolCallDelta Finish()
    {
        var rest = _buffer.ToString();
        _buffer.Clear();
        return _state switch
        {
            State.Content => ToolCallDelta.Text(rest),
            State.Calls => Degrade(),
            _ => ToolCallDelta.Text(""),
        };
    }

    ToolCallDelta InContent(string text)
    {
        _buffer.Append(text);
        var buffer = _buffer.ToString();
        _buffer.Clear();
        int begin = buffer.IndexOf(CallsBegin, StringComparison.Ordinal);
        if (begin < 0)
        {
            int held = PartialTag.HeldBack(buffer, CallsBegin);
            _buffer.Append(buffer, buffer.Length - held, held);
            return ToolCallDelta.Text(buffer[..^held]);
        }
        _state = State.Calls;
        var calls = InCalls(buffer[begin..]);
        return calls with { Content = buffer[..begin] + calls.Content };
    }

    ToolCallDelta InCalls(string text)
    {
        _section += text;
        List<ParsedToolCall> found = [];
        int position = _consumed == 0 ? CallsBegin.Length : _consumed;
        while (true)
        {
            while (position < _section.Length && char.IsWhiteSpace(_section[position])) position++;
            var rest = _section.AsSpan(position);
            if (rest.StartsWith(CallsEnd, StringComparison.Ordinal))
            {
                _state = State.After;
                return new("", found);
            }
            if (!rest.StartsWith(CallBegin, StringComparison.Ordinal))
            {
                // Still a possible start of a call or of the end token: wait; anything else is malformed.
                bool partial = CallBegin.AsSpan().StartsWith(rest) || CallsEnd.AsSpan().StartsWith(rest);
                return rest.IsEmpty || partial ? new("", found) : Degrade(found);
            }
            int end = _section.IndexOf(CallEnd, position, StringComparison.Ordinal);
            if (end < 0) return new("", found);
            if (Parse(_section[(position + CallBegin.Length)..end]) is not var (name, arguments)) return Degrade(found);
            position = end + CallEnd.Length;
            _consumed = position;
            if (_calls++ < maxCalls) found.Add(new ParsedToolCall(_calls - 1, NewId(), name, arguments));
        }
    }

    /// <summary>The raw section from the first text that was not a valid call on becomes content; so does everything after.</summary>
    ToolCallDelta Degrade(IReadOnlyList<ParsedToolCall>? found = null)
    {
        _state = State.Malformed;
        var raw = _consumed == 0 ? _section : _section[_consumed..];
        return new(raw, found ?? []);
    }

    /// <summary><c>function&lt;｜tool▁sep｜&gt;NAME\n```json\nARGUMENTS\n```</c> (the fence optional) to its name and arguments.</summary>
    static (string Name, string Arguments)? Parse(string body)
    {
        int sep = body.IndexOf(Separator, StringComparison.Ordinal);
        if (sep < 0 || body[..sep].Trim() != "function") return null;
        var rest = body[(sep + Separator.Length)..];
        int newline = rest.IndexOf('\n');
        if (newline < 0) return null;
        var name = rest[..newline].Trim();
        var arguments = rest[(newline + 1)..].Trim();
        if (arguments.StartsWith("```json", StringComparison.Ordinal)) arguments = arguments["```json".Length..];
        else if (arguments.StartsWith("```", StringComparison.Ordinal)) arguments = arguments[3..];
        if (arguments.EndsWith("```", StringComparison.Ordinal)) arguments = arguments[..^3];
        arguments = arguments.Trim();
        if (name.Length == 0 || name.Any(char.IsWhiteSpace) || !IsJsonObject(arguments)) return null;
        return (name, arguments);
    }

    static bool IsJsonObject(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>An OpenAI-style call id: <c>call_</c> and 24 hex digits.</summary>
    static string NewId() => "call_" + Guid.NewGuid().ToString("N")[..24];
}
