using System.Globalization;
using System.Text;
using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>
/// Python <c>json.dumps</c> as HF's <c>tojson</c> filter calls it: ensure_ascii (default False here),
/// indent (int or string), separators and sort_keys.
/// </summary>
internal static class PyJson
{
    public static string Dumps(Value value, string? indent, bool ensureAscii, string? itemSeparator, string? keySeparator, bool sortKeys)
    {
        itemSeparator ??= indent is null ? ", " : ",";
        keySeparator ??= ": ";
        var sb = new StringBuilder();
        Write(sb, value, indent, ensureAscii, itemSeparator, keySeparator, sortKeys, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, Value v, string? indent, bool ascii, string itemSep, string keySep, bool sortKeys, int level)
    {
        if (level > 200) throw new TemplateException("Circular reference detected or nesting too deep in tojson");
        switch (v)
        {
            case NoneValue:
                sb.Append("null");
                break;
            case BoolValue b:
                sb.Append(b.Value ? "true" : "false");
                break;
            case IntValue i:
                sb.Append(i.Value.ToString(CultureInfo.InvariantCulture));
                break;
            case FloatValue f:
                sb.Append(double.IsNaN(f.Value) ? "NaN"
                    : double.IsPositiveInfinity(f.Value) ? "Infinity"
                    : double.IsNegativeInfinity(f.Value) ? "-Infinity"
                    : PyFormat.FloatRepr(f.Value));
                break;
            case StringValue s:
                WriteString(sb, s.Value, ascii);
                break;
            case ListValue l:
                if (l.Count == 0) { sb.Append("[]"); break; }
                sb.Append('[');
                for (int k = 0; k < l.Count; k++)
                {
                    if (k > 0) sb.Append(itemSep);
                    NewLine(sb, indent, level + 1);
                    Write(sb, l.Items[k], indent, ascii, itemSep, keySep, sortKeys, level + 1);
                }
                NewLine(sb, indent, level);
                sb.Append(']');
                break;
            case DictValue d:
            {
                if (d.Count == 0) { sb.Append("{}"); break; }
                IEnumerable<KeyValuePair<Value, Value>> entries = d.Entries;
                if (sortKeys)
                {
                    var list = d.Entries.ToList();
                    list.Sort((x, y) => Operators.Order(x.Key, y.Key));
                    entries = list;
                }
                sb.Append('{');
                bool first = true;
                foreach (var (key, val) in entries)
                {
                    if (!first) sb.Append(itemSep);
                    first = false;
                    NewLine(sb, indent, level + 1);
                    WriteString(sb, KeyText(key), ascii);
                    sb.Append(keySep);
                    Write(sb, val, indent, ascii, itemSep, keySep, sortKeys, level + 1);
                }
                NewLine(sb, indent, level);
                sb.Append('}');
                break;
            }
            default:
                throw new TemplateException($"Object of type {v.TypeName} is not JSON serializable");
        }
    }

    private static string KeyText(Value key) => key switch
    {
        StringValue s => s.Value,
        BoolValue b => b.Value ? "true" : "false",
        NoneValue => "null",
        IntValue or FloatValue => key.ToStr(),
        _ => throw new TemplateException($"keys must be str, int, float, bool or None, not {key.TypeName}"),
    };

    private static void NewLine(StringBuilder sb, string? indent, int level)
    {
        if (indent is null) return;
        sb.Append('\n');
        for (int i = 0; i < level; i++) sb.Append(indent);
    }

    public static void WriteString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ascii && c > 0x7E))
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
