using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekMesh.ChatTemplates.Values;

/// <summary>
/// Builds template values from System.Text.Json nodes/elements and plain .NET objects
/// (string, bool, numbers, dictionaries, enumerables, records).
/// </summary>
internal static class ValueConverter
{
    private const int MaxDepth = 128;

    public static Value From(object? obj) => From(obj, 0);

    private static Value From(object? obj, int depth)
    {
        if (depth > MaxDepth) throw new TemplateException("Value nesting is too deep (or contains a cycle)");
        switch (obj)
        {
            case null: return NoneValue.Instance;
            case Value v: return v;
            case string s: return StringValue.Of(s);
            case bool b: return BoolValue.Of(b);
            case char c: return new StringValue(c.ToString());
            case int i: return IntValue.Of(i);
            case long l: return IntValue.Of(l);
            case short sh: return IntValue.Of(sh);
            case byte by: return IntValue.Of(by);
            case sbyte sb: return IntValue.Of(sb);
            case ushort us: return IntValue.Of(us);
            case uint ui: return IntValue.Of(ui);
            case ulong ul: return ul <= long.MaxValue ? IntValue.Of((long)ul) : new FloatValue(ul);
            case double d: return new FloatValue(d);
            case float f: return new FloatValue(f);
            case decimal m: return new FloatValue((double)m);
            case Enum e: return StringValue.Of(e.ToString());
            case JsonElement el: return FromElement(el, depth);
            case JsonDocument doc: return FromElement(doc.RootElement, depth);
            case JsonNode node: return FromNode(node, depth);
            case ChatMessage msg: return ChatValues.Message(msg, parseArguments: false);
            case ToolCall call: return ChatValues.ToolCall(call, parseArguments: false);
            case IDictionary<string, object?> gd:
            {
                var entries = new OrderedDictionary<Value, Value>(gd.Count);
                foreach (var kv in gd) entries[StringValue.Of(kv.Key)] = From(kv.Value, depth + 1);
                return new DictValue(entries);
            }
            case IReadOnlyDictionary<string, object?> rd:
            {
                var entries = new OrderedDictionary<Value, Value>(rd.Count);
                foreach (var kv in rd) entries[StringValue.Of(kv.Key)] = From(kv.Value, depth + 1);
                return new DictValue(entries);
            }
            case IDictionary nd:
            {
                var entries = new OrderedDictionary<Value, Value>(nd.Count);
                foreach (DictionaryEntry kv in nd) entries[From(kv.Key, depth + 1)] = From(kv.Value, depth + 1);
                return new DictValue(entries);
            }
            case IEnumerable seq:
            {
                var items = new List<Value>();
                foreach (var item in seq) items.Add(From(item, depth + 1));
                return new ListValue(items);
            }
            case System.Runtime.CompilerServices.ITuple tuple:
            {
                var items = new List<Value>(tuple.Length);
                for (int i = 0; i < tuple.Length; i++) items.Add(From(tuple[i], depth + 1));
                return new ListValue(items, isTuple: true);
            }
            default:
                return FromProperties(obj, depth);
        }
    }

    private static Value FromProperties(object obj, int depth)
    {
        var type = obj.GetType();
        if (type.IsPrimitive || obj is DateTime or DateTimeOffset or Guid or TimeSpan or Uri)
            return StringValue.Of(Convert.ToString(obj, System.Globalization.CultureInfo.InvariantCulture) ?? "");
        var entries = new OrderedDictionary<Value, Value>();
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (!p.CanRead || p.GetIndexParameters().Length > 0) continue;
            entries[StringValue.Of(p.Name)] = From(p.GetValue(obj), depth + 1);
        }
        return new DictValue(entries);
    }

    public static Value FromElement(JsonElement el, int depth = 0)
    {
        if (depth > MaxDepth) throw new TemplateException("JSON nesting is too deep");
        switch (el.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var entries = new OrderedDictionary<Value, Value>();
                foreach (var p in el.EnumerateObject()) entries[StringValue.Of(p.Name)] = FromElement(p.Value, depth + 1);
                return new DictValue(entries);
            }
            case JsonValueKind.Array:
            {
                var items = new List<Value>(el.GetArrayLength());
                foreach (var item in el.EnumerateArray()) items.Add(FromElement(item, depth + 1));
                return new ListValue(items);
            }
            case JsonValueKind.String: return StringValue.Of(el.GetString() ?? "");
            case JsonValueKind.Number: return JsonNumber(el.GetRawText(), el);
            case JsonValueKind.True: return BoolValue.True;
            case JsonValueKind.False: return BoolValue.False;
            case JsonValueKind.Null: return NoneValue.Instance;
            default: return UndefinedValue.Instance;
        }
    }

    /// <summary>Like Python's json.loads: a number with '.', 'e' or 'E' is a float, otherwise an int.</summary>
    private static Value JsonNumber(string raw, JsonElement el)
    {
        bool isFloat = raw.AsSpan().IndexOfAny(".eE") >= 0;
        if (!isFloat && el.TryGetInt64(out long l)) return IntValue.Of(l);
        return new FloatValue(el.GetDouble());
    }

    private static Value FromNode(JsonNode node, int depth)
    {
        if (depth > MaxDepth) throw new TemplateException("JSON nesting is too deep");
        switch (node)
        {
            case JsonObject o:
            {
                var entries = new OrderedDictionary<Value, Value>(o.Count);
                foreach (var kv in o) entries[StringValue.Of(kv.Key)] = kv.Value is null ? NoneValue.Instance : FromNode(kv.Value, depth + 1);
                return new DictValue(entries);
            }
            case JsonArray a:
            {
                var items = new List<Value>(a.Count);
                foreach (var item in a) items.Add(item is null ? NoneValue.Instance : FromNode(item, depth + 1));
                return new ListValue(items);
            }
            case JsonValue v:
                if (v.TryGetValue<JsonElement>(out var el)) return FromElement(el, depth);
                return From(v.GetValue<object>(), depth);
            default:
                return NoneValue.Instance;
        }
    }
}
