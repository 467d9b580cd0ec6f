using System.Text;

namespace DeepSeekMesh.ChatTemplates.Values;

/// <summary>A Python list or tuple. Never mutated after construction.</summary>
internal sealed class ListValue : Value
{
    public static readonly ListValue EmptyList = new([], false);

    public ListValue(IReadOnlyList<Value> items, bool isTuple = false)
    {
        Items = items;
        IsTuple = isTuple;
    }

    public IReadOnlyList<Value> Items { get; }

    public bool IsTuple { get; }

    public int Count => Items.Count;

    public override string TypeName => IsTuple ? "tuple" : "list";

    public override bool IsTruthy => Items.Count > 0;

    public override string ToStr()
    {
        var sb = new StringBuilder();
        sb.Append(IsTuple ? '(' : '[');
        for (int i = 0; i < Items.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append(Items[i].Repr());
        }
        if (IsTuple && Items.Count == 1) sb.Append(',');
        sb.Append(IsTuple ? ')' : ']');
        return sb.ToString();
    }

    public override bool Equals(object? obj)
    {
        if (obj is not ListValue other || other.IsTuple != IsTuple || other.Count != Count) return false;
        for (int i = 0; i < Count; i++)
        {
            if (!Items[i].Equals(other.Items[i])) return false;
        }
        return true;
    }

    public override int GetHashCode()
    {
        if (!IsTuple) throw new TemplateException("unhashable type: 'list'");
        var h = new HashCode();
        foreach (var item in Items) h.Add(item);
        return h.ToHashCode();
    }
}

/// <summary>A Python dict preserving insertion order. Never mutated after construction.</summary>
internal sealed class DictValue : Value
{
    public DictValue(OrderedDictionary<Value, Value> entries) => Entries = entries;

    public DictValue() : this(new OrderedDictionary<Value, Value>()) { }

    public OrderedDictionary<Value, Value> Entries { get; }

    public int Count => Entries.Count;

    public override string TypeName => "dict";

    public override bool IsTruthy => Entries.Count > 0;

    public bool TryGet(string key, out Value value) => Entries.TryGetValue(new StringValue(key), out value!);

    public bool TryGet(Value key, out Value value)
    {
        if (key is DictValue || (key is ListValue { IsTuple: false }) || key is NamespaceValue)
            throw new TemplateException($"unhashable type: '{key.TypeName}'");
        return Entries.TryGetValue(key, out value!);
    }

    public override string ToStr()
    {
        var sb = new StringBuilder("{");
        bool first = true;
        foreach (var (k, v) in Entries)
        {
            if (!first) sb.Append(", ");
            first = false;
            sb.Append(k.Repr()).Append(": ").Append(v.Repr());
        }
        return sb.Append('}').ToString();
    }

    public override bool Equals(object? obj)
    {
        if (obj is not DictValue other || other.Count != Count) return false;
        foreach (var (k, v) in Entries)
        {
            if (!other.Entries.TryGetValue(k, out var ov) || !v.Equals(ov)) return false;
        }
        return true;
    }

    public override int GetHashCode() => throw new TemplateException("unhashable type: 'dict'");
}

/// <summary>Jinja's <c>namespace()</c>: the one mutable object, so loops can carry state outward.</summary>
internal sealed class NamespaceValue : Value
{
    public Dictionary<string, Value> Attributes { get; } = new(StringComparer.Ordinal);

    public override string TypeName => "Namespace";

    public override string ToStr()
    {
        var sb = new StringBuilder("<Namespace {");
        bool first = true;
        foreach (var (k, v) in Attributes)
        {
            if (!first) sb.Append(", ");
            first = false;
            sb.Append(PyFormat.StringRepr(k)).Append(": ").Append(v.Repr());
        }
        return sb.Append("}>").ToString();
    }
}
