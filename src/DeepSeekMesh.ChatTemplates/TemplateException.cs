namespace DeepSeekMesh.ChatTemplates;

/// <summary>
/// Raised when a template fails while rendering: <c>raise_exception(...)</c>, type errors,
/// unknown filters or tests, operations on undefined values and similar.
/// </summary>
public class TemplateException : Exception
{
    public TemplateException(string message) : base(message) { }

    public TemplateException(string message, Exception? inner) : base(message, inner) { }

    /// <summary>1-based line of the template construct that failed, when known.</summary>
    public int? Line { get; internal set; }
}

/// <summary>Raised by <see cref="ChatTemplate.Parse"/> when the template source is not valid.</summary>
public sealed class TemplateSyntaxException : TemplateException
{
    public TemplateSyntaxException(string message, int line, int column)
        : base($"{message} (line {line}, column {column})")
    {
        Reason = message;
        Line = line;
        Column = column;
    }

    /// <summary>The error description without the position suffix.</summary>
    public string Reason { get; }

    /// <summary>1-based column of the offending token.</summary>
    public int Column { get; }
}
