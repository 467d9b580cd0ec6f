using DeepSeekMesh.ChatTemplates.Runtime;
using DeepSeekMesh.ChatTemplates.Syntax;
using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates;

/// <summary>
/// A parsed Jinja chat template. Parse once (<see cref="Parse"/>), render many times; a parsed
/// template is immutable and safe to render from several threads at once.
/// Whitespace handling matches HuggingFace's environment (trim_blocks and lstrip_blocks on).
/// </summary>
public sealed class ChatTemplate
{
    private readonly TemplateNode _root;

    private ChatTemplate(string source, TemplateNode root)
    {
        Source = source;
        _root = root;
    }

    /// <summary>The template source text as given to <see cref="Parse"/>.</summary>
    public string Source { get; }

    /// <summary>Parses template source.</summary>
    /// <exception cref="TemplateSyntaxException">The source is not a valid template (has line and column).</exception>
    public static ChatTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new ChatTemplate(source, Parser.Parse(source));
    }

    /// <summary>
    /// Renders with the given top-level variables. Values may be null, strings, booleans, numbers,
    /// <c>IDictionary&lt;string, object?&gt;</c>, enumerables, System.Text.Json nodes/elements,
    /// <see cref="ChatMessage"/>/<see cref="ToolCall"/>, or other objects (their public properties).
    /// </summary>
    /// <exception cref="TemplateException">The template failed (raise_exception, a type error, an unknown filter, ...).</exception>
    public string Render(IReadOnlyDictionary<string, object?> variables) => Render(variables, null);

    /// <summary>As <see cref="Render(IReadOnlyDictionary{string, object?})"/>, with the clock <c>strftime_now</c> reads.</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables, TimeProvider? clock)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var globals = new Scope(null);
        foreach (var kv in variables) globals.Set(kv.Key, ValueConverter.From(kv.Value));
        return RenderScope(globals, clock);
    }

    internal string RenderValues(IEnumerable<KeyValuePair<string, Value>> variables, TimeProvider? clock)
    {
        var globals = new Scope(null);
        foreach (var kv in variables) globals.Set(kv.Key, kv.Value);
        return RenderScope(globals, clock);
    }

    private string RenderScope(Scope globals, TimeProvider? clock)
    {
        var evaluator = new Evaluator(clock ?? TimeProvider.System, Math.Max(256, Source.Length));
        try
        {
            return evaluator.Render(_root, new Scope(globals));
        }
        catch (TemplateException)
        {
            throw;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Safety net: interpreter bugs must surface as template errors, not as raw runtime exceptions.
            throw new TemplateException($"Internal error while rendering template: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }
}
