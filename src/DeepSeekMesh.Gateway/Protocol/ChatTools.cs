using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using DeepSeekMesh.Text.Agents;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>
/// A chat request's <c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls</c>, validated as OpenAI
/// does (a 400 naming the parameter): what goes into the prompt and what the parser keeps.
/// </summary>
/// <param name="Definitions">The tool objects as sent, for chat templates that list tools themselves.</param>
/// <param name="Required">The function the model must call, <c>"*"</c> for any (<c>required</c>), null for <c>auto</c>.</param>
public sealed partial record ChatTools(IReadOnlyList<ToolFunction> Functions, IReadOnlyList<object?> Definitions, string? Required, bool Parallel)
{
    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex FunctionName();

    /// <summary>The request's tools, or null when there are none or <c>tool_choice</c> is <c>none</c> (no tools in the prompt, no parsing).</summary>
    public static ChatTools? Read(JsonElement? tools, JsonElement? toolChoice, bool? parallel)
    {
        if (tools is not { } list)
        {
            if (toolChoice is { } c && !(c.ValueKind == JsonValueKind.String && c.GetString() == "none"))
                throw ApiException.BadRequest("'tool_choice' is only allowed when 'tools' are specified.", "tool_choice", "invalid_value");
            return null;
        }
        if (list.ValueKind != JsonValueKind.Array) throw ApiException.InvalidType("tools", "an array", list);
        if (list.GetArrayLength() == 0) throw ApiException.BadRequest("Invalid 'tools': empty array. Expected an array with minimum length 1.", "tools", "empty_array");
        var functions = list.EnumerateArray().Select((t, i) => Function(t, $"tools[{i}]")).ToArray();
        var duplicate = functions.GroupBy(f => f.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw ApiException.BadRequest($"Invalid 'tools': the function name '{duplicate.Key}' is used more than once.", "tools", "invalid_value");
        var (none, required) = Choice(toolChoice, functions);
        if (none) return null;
        return new ChatTools(functions, list.EnumerateArray().Select(t => (object?)t.Clone()).ToArray(), required, parallel ?? true);
    }

    static ToolFunction Function(JsonElement tool, string where)
    {
        if (tool.ValueKind != JsonValueKind.Object) throw ApiException.InvalidType(where, "an object", tool);
        if (tool.TryGetProperty("type", out var type) && !(type.ValueKind == JsonValueKind.String && type.GetString() == "function"))
            throw ApiException.BadRequest($"Invalid value for '{where}.type': only 'function' tools are supported.", $"{where}.type", "invalid_value");
        if (!tool.TryGetProperty("function", out var f)) throw ApiException.BadRequest($"Missing required parameter: '{where}.function'.", $"{where}.function", "missing_required_parameter");
        if (f.ValueKind != JsonValueKind.Object) throw ApiException.InvalidType($"{where}.function", "an object", f);
        if (!f.TryGetProperty("name", out var name)) throw ApiException.BadRequest($"Missing required parameter: '{where}.function.name'.", $"{where}.function.name", "missing_required_parameter");
        if (name.ValueKind != JsonValueKind.String) throw ApiException.InvalidType($"{where}.function.name", "a string", name);
        if (!FunctionName().IsMatch(name.GetString()!))
            throw ApiException.BadRequest($"Invalid '{where}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{{1,64}}$'.", $"{where}.function.name", "invalid_value");
        string? description = null;
        if (f.TryGetProperty("description", out var d) && d.ValueKind != JsonValueKind.Null)
            description = d.ValueKind == JsonValueKind.String ? d.GetString() : throw ApiException.InvalidType($"{where}.function.description", "a string", d);
        string? parameters = null;
        if (f.TryGetProperty("parameters", out var p) && p.ValueKind != JsonValueKind.Null)
            parameters = p.ValueKind == JsonValueKind.Object ? Compact(p) : throw ApiException.InvalidType($"{where}.function.parameters", "an object", p);
        return new ToolFunction(name.GetString()!, description, parameters);
    }

    /// <summary>A schema as compact JSON text (non-ASCII kept as is).</summary>
    static string Compact(JsonElement value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Json.Write(buffer, value.WriteTo);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Whether the choice is "none", and the function it requires: "*" for "required", a name for a named function, null for "auto".</summary>
    static (bool None, string? Required) Choice(JsonElement? toolChoice, IReadOnlyList<ToolFunction> functions)
    {
        if (toolChoice is not { } c) return (false, null);
        if (c.ValueKind == JsonValueKind.String)
            return c.GetString() switch
            {
                "none" => (true, null),
                "auto" => (false, null),
                "required" => (false, "*"),
                var other => throw ApiException.BadRequest($"Invalid value for 'tool_choice': '{other}'. Supported values are: 'none', 'auto', 'required' or a named function.", "tool_choice", "invalid_value"),
            };
        if (c.ValueKind != JsonValueKind.Object) throw ApiException.InvalidType("tool_choice", "a string or an object", c);
        if (!(c.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object && f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String))
            throw ApiException.BadRequest("Invalid 'tool_choice': expected {\"type\": \"function\", \"function\": {\"name\": \"…\"}}.", "tool_choice", "invalid_value");
        var name = n.GetString()!;
        if (functions.All(x => x.Name != name))
            throw ApiException.BadRequest($"Invalid 'tool_choice': the function '{name}' is not among the 'tools'.", "tool_choice", "invalid_value");
        return (false, name);
    }
}
