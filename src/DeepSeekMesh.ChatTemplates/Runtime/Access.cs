using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>
/// Attribute (<c>a.b</c>) and item (<c>a[b]</c>) access. Like Jinja, <c>a.b</c> tries a method/attribute first
/// and then the key, while <c>a[b]</c> tries the key first. Missing things give undefined. Access on an
/// undefined value yields undefined again (lenient, like Jinja's ChainableUndefined).
/// </summary>
internal static class Access
{
    public static Value GetAttr(Value obj, string name)
    {
        switch (obj)
        {
            case DictValue d:
                if (Methods.IsMethod(d, name)) return new BoundMethod(d, name);
                return d.TryGet(name, out var v) ? v : new UndefinedValue($"'dict object' has no attribute '{name}'");
            case NamespaceValue ns:
                return ns.Attributes.TryGetValue(name, out var nv) ? nv : new UndefinedValue($"'Namespace' object has no attribute '{name}'");
            case LoopValue loop:
                return loop.GetAttribute(name);
            case UndefinedValue u:
                return u;
            default:
                if (Methods.IsMethod(obj, name)) return new BoundMethod(obj, name);
                return new UndefinedValue($"'{Describe(obj)}' has no attribute '{name}'");
        }
    }

    public static Value GetItem(Value obj, Value key)
    {
        switch (obj)
        {
            case DictValue d:
                if (d.TryGet(key, out var v)) return v;
                if (key is StringValue ks && Methods.IsMethod(d, ks.Value)) return new BoundMethod(d, ks.Value);
                return new UndefinedValue($"'dict object' has no attribute {key.Repr()}");
            case ListValue l when Operators.TryInt(key, out long idx):
                if (idx < 0) idx += l.Count;
                return idx >= 0 && idx < l.Count ? l.Items[(int)idx] : new UndefinedValue($"'{l.TypeName} object' has no element {key.ToStr()}");
            case StringValue s when Operators.TryInt(key, out long ci):
            {
                if (!PyString.HasSurrogates(s.Value))
                {
                    if (ci < 0) ci += s.Value.Length;
                    return ci >= 0 && ci < s.Value.Length ? new StringValue(s.Value[(int)ci].ToString()) : new UndefinedValue("string index out of range");
                }
                var cps = PyString.CodePoints(s.Value);
                if (ci < 0) ci += cps.Count;
                return ci >= 0 && ci < cps.Count ? new StringValue(cps[(int)ci]) : new UndefinedValue("string index out of range");
            }
            case UndefinedValue u:
                return u;
            default:
                if (key is StringValue name) return GetAttr(obj, name.Value);
                return new UndefinedValue($"'{Describe(obj)}' has no element {key.Repr()}");
        }
    }

    private static string Describe(Value v) => v switch
    {
        NoneValue => "None",
        StringValue => "str object",
        ListValue l => $"{l.TypeName} object",
        _ => $"{v.TypeName} object",
    };

    /// <summary>Follows a dotted path ("function.name", "0.x") the way Jinja's attribute filters do.</summary>
    public static Value GetPath(Value obj, string path)
    {
        foreach (var part in path.Split('.'))
        {
            obj = long.TryParse(part, out long i) ? GetItem(obj, IntValue.Of(i)) : GetItem(obj, new StringValue(part));
        }
        return obj;
    }
}
