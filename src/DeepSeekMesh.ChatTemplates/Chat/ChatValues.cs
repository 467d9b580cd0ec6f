using System.Text.Json;
using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates;

/// <summary>Builds the dict values that chat templates expect from <see cref="ChatMessage"/>s.</summary>
internal static class ChatValues
{
    private static readonly StringValue RoleKey = new("role");
    private static readonly StringValue ContentKey = new("content");
    private static readonly StringValue ToolCallsKey = new("tool_calls");
    private static readonly StringValue ToolCallIdKey = new("tool_call_id");
    private static readonly StringValue NameKey = new("name");
    private static readonly StringValue IdKey = new("id");
    private static readonly StringValue TypeKey = new("type");
    private static readonly StringValue FunctionKey = new("function");
    private static readonly StringValue ArgumentsKey = new("arguments");

    public static Value Message(ChatMessage m, bool parseArguments)
    {
        var d = new OrderedDictionary<Value, Value>(5)
        {
            [RoleKey] = StringValue.Of(m.Role),
            [ContentKey] = m.Content is null ? NoneValue.Instance : StringValue.Of(m.Content),
        };
        if (m.ToolCalls is { Count: > 0 } calls)
        {
            var list = new List<Value>(calls.Count);
            foreach (var c in calls) list.Add(ToolCall(c, parseArguments));
            d[ToolCallsKey] = new ListValue(list);
        }
        if (m.ToolCallId is not null) d[ToolCallIdKey] = StringValue.Of(m.ToolCallId);
        if (m.Name is not null) d[NameKey] = StringValue.Of(m.Name);
        return new DictValue(d);
    }

    public static Value ToolCall(ToolCall c, bool parseArguments)
    {
        var function = new OrderedDictionary<Value, Value>(2)
        {
            [NameKey] = StringValue.Of(c.FunctionName),
            [ArgumentsKey] = parseArguments ? ParseArguments(c.Arguments) : StringValue.Of(c.Arguments),
        };
        var d = new OrderedDictionary<Value, Value>(3);
        if (c.Id is not null) d[IdKey] = StringValue.Of(c.Id);
        d[TypeKey] = StringValue.Of(c.Type);
        d[FunctionKey] = new DictValue(function);
        return new DictValue(d);
    }

    /// <summary>JSON object text becomes a dict (what HF templates such as Qwen's and Llama's expect); anything else stays a string.</summary>
    private static Value ParseArguments(string arguments)
    {
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            if (doc.RootElement.ValueKind == JsonValueKind.Object) return ValueConverter.FromElement(doc.RootElement);
        }
        catch (JsonException)
        {
            // not JSON: keep the text
        }
        return StringValue.Of(arguments);
    }
}
