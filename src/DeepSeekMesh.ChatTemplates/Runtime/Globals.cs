using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>Global functions available to every template (Jinja's plus HF's raise_exception and strftime_now).</summary>
internal static class Globals
{
    private const int MaxRange = 100_000; // Jinja's sandbox limit

    private static readonly Dictionary<string, Value> Registry = new(StringComparer.Ordinal)
    {
        ["range"] = new NativeFunction("range", Range),
        ["dict"] = new NativeFunction("dict", Dict),
        ["namespace"] = new NativeFunction("namespace", Namespace),
        ["raise_exception"] = new NativeFunction("raise_exception", RaiseException),
        ["strftime_now"] = new NativeFunction("strftime_now", StrftimeNow),
    };

    public static bool TryGet(string name, out Value value) => Registry.TryGetValue(name, out value!);

    private static Value Range(Arguments a, Evaluator _)
    {
        if (a.Named.Count > 0) throw new TemplateException("range() takes no keyword arguments");
        var p = a.Positional;
        long Arg(int i) => Operators.TryInt(p[i], out long v) ? v
            : throw new TemplateException($"'{p[i].TypeName}' object cannot be interpreted as an integer");
        long start = 0, stop, step = 1;
        switch (p.Count)
        {
            case 1: stop = Arg(0); break;
            case 2: start = Arg(0); stop = Arg(1); break;
            case 3: start = Arg(0); stop = Arg(1); step = Arg(2); break;
            default: throw new TemplateException($"range expected 1 to 3 arguments, got {p.Count}");
        }
        if (step == 0) throw new TemplateException("range() arg 3 must not be zero");
        var items = new List<Value>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (items.Count >= MaxRange) throw new TemplateException($"Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MaxRange}).");
            items.Add(IntValue.Of(i));
        }
        return new ListValue(items);
    }

    private static void AddPairs(OrderedDictionary<Value, Value> target, Arguments a, string function)
    {
        if (a.Positional.Count > 1) throw new TemplateException($"{function} expected at most 1 positional argument, got {a.Positional.Count}");
        if (a.Positional.Count == 1)
        {
            switch (a.Positional[0])
            {
                case DictValue d:
                    foreach (var (k, v) in d.Entries) target[k] = v;
                    break;
                case NamespaceValue ns:
                    foreach (var (k, v) in ns.Attributes) target[new StringValue(k)] = v;
                    break;
                case var other:
                    foreach (var pair in Operators.Iterate(other))
                    {
                        if (pair is not ListValue { Count: 2 } kv)
                            throw new TemplateException($"{function} sequence elements must be pairs");
                        target[kv.Items[0]] = kv.Items[1];
                    }
                    break;
            }
        }
        foreach (var (k, v) in a.Named) target[new StringValue(k)] = v;
    }

    private static Value Dict(Arguments a, Evaluator _)
    {
        var entries = new OrderedDictionary<Value, Value>();
        AddPairs(entries, a, "dict");
        return new DictValue(entries);
    }

    private static Value Namespace(Arguments a, Evaluator _)
    {
        var entries = new OrderedDictionary<Value, Value>();
        AddPairs(entries, a, "namespace");
        var ns = new NamespaceValue();
        foreach (var (k, v) in entries)
        {
            if (k is not StringValue key) throw new TemplateException("namespace keys must be strings");
            ns.Attributes[key.Value] = v;
        }
        return ns;
    }

    private static Value RaiseException(Arguments a, Evaluator _)
    {
        var message = a.Get(0, "message");
        throw new TemplateRaisedException(message?.ToStr() ?? "");
    }

    private static Value StrftimeNow(Arguments a, Evaluator ev)
    {
        string format = a.GetString(0, "format", "strftime_now");
        return StringValue.Of(Strftime.Format(ev.Clock.GetLocalNow(), format));
    }
}

/// <summary>Thrown by the template's own <c>raise_exception(message)</c>; the message is the template's text.</summary>
internal sealed class TemplateRaisedException(string message) : TemplateException(message);
