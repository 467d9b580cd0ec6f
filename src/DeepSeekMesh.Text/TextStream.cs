using DeepSeekMesh.Tokenizers;

namespace DeepSeekMesh.Text;

/// <summary>
/// Generated ids in, text deltas out: never half a UTF-8 character, and text that could still turn
/// into a stop string is held back until it can't (a stop spanning tokens is still caught).
/// </summary>
public sealed class TextStream(StreamingDetokenizer detokenizer, StopSequenceMatcher? stops)
{
    /// <summary>True once a stop string appeared; later tokens add nothing.</summary>
    public bool Stopped { get; private set; }

    /// <summary>The stop string that ended the text, if one did.</summary>
    public string? StopSequence { get; private set; }

    /// <summary>The text this token makes safe to show (possibly empty).</summary>
    public string Push(int token) => Stopped ? "" : Filter(detokenizer.Push(token), final: false);

    /// <summary>At the end of generation: whatever was held back (incomplete bytes, a partial stop string).</summary>
    public string Finish() => Stopped ? "" : Filter(detokenizer.Flush(), final: true);

    string Filter(string text, bool final)
    {
        if (stops is null) return text;
        var result = stops.Process(text);
        if (result.Stopped)
        {
            Stopped = true;
            StopSequence = result.StopSequence;
            return result.Text;
        }
        return final ? result.Text + stops.Flush() : result.Text;
    }
}
