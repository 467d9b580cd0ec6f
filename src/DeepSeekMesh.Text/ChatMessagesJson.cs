using System.Text.Json;
using DeepSeekMesh.ChatTemplates;

namespace DeepSeekMesh.Text;

/// <summary>OpenAI-style chat messages (role, content, tool_calls, tool_call_id, name) from JSON.</summary>
public static class ChatMessagesJson
{
    public static IReadOnlyList<ChatMessage> Parse(JsonElement messages)
    {
        if (messages.ValueKind != JsonValueKind.Array) throw new FormatException("messages must be a JSON array");
        var result = new List<ChatMessage>();
        int i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            result.Add(ParseOne(m, $"messages[{i}]"));
            i++;
        }
        if (result.Count == 0) throw new FormatException("messages must not be empty");
        return result;
    }

    static ChatMessage ParseOne(JsonElement m, string where)
    {
        if (m.ValueKind != JsonValueKind.Object) throw new FormatException($"{where} must be an object");
        var role = m.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : throw new FormatException($"{where}.role must be a string");
        if (role is not ("system" or "developer" or "user" or "assistant" or "tool"))
            throw new FormatException($"{where}.role '{role}' is not one of system, developer, user, assistant, tool");
        if (role == "developer") role = "system";
        string? content = m.TryGetProperty("content", out var c) ? Content(c, $"{where}.content") : null;
        List<ToolCall>? calls = null;
        if (m.TryGetProperty("tool_calls", out var tc) && tc.ValueKind == JsonValueKind.Array)
        {
            calls = new List<ToolCall>();
            int j = 0;
            foreach (var call in tc.EnumerateArray())
            {
                var w = $"{where}.tool_calls[{j++}]";
                if (!call.TryGetProperty("function", out var f) || f.ValueKind != JsonValueKind.Object)
                    throw new FormatException($"{w}.function must be an object");
                var name = f.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : throw new FormatException($"{w}.function.name must be a string");
                var args = f.TryGetProperty("arguments", out var a) ? (a.ValueKind == JsonValueKind.String ? a.GetString()! : a.GetRawText()) : "{}";
                calls.Add(new ToolCall(call.TryGetProperty("id", out var id) ? id.GetString() : null,
                    call.TryGetProperty("type", out var t) ? t.GetString() ?? "function" : "function", name, args));
            }
        }
        // DeepSeek-V3's template writes an assistant message's tool calls only when its content is None.
        if (role == "assistant" && calls is { Count: > 0 } && string.IsNullOrEmpty(content)) content = null;
        if (content is null && calls is null && role != "assistant") throw new FormatException($"{where}.content is required for role '{role}'");
        return new ChatMessage(role, content, calls,
            m.TryGetProperty("tool_call_id", out var tid) ? tid.GetString() : null,
            m.TryGetProperty("name", out var nm) ? nm.GetString() : null);
    }

    /// <summary>A string, or OpenAI's list of content parts of which the text parts are joined.</summary>
    static string? Content(JsonElement c, string where) => c.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => c.GetString(),
        JsonValueKind.Array => string.Concat(c.EnumerateArray().Select(p =>
            p.TryGetProperty("type", out var t) && t.GetString() == "text" && p.TryGetProperty("text", out var x) && x.ValueKind == JsonValueKind.String
                ? x.GetString()
                : throw new FormatException($"{where}: only text content parts are supported"))),
        _ => throw new FormatException($"{where} must be a string, null or a list of text parts"),
    };
}
