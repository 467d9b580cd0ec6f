using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

internal delegate Value FilterFunction(Value input, Arguments args, Evaluator evaluator);

/// <summary>The built-in filters (<c>value | name(args)</c>), with Jinja's semantics and HF's <c>tojson</c>.</summary>
internal static partial class Filters
{
    private static readonly Dictionary<string, FilterFunction> Registry = new(StringComparer.Ordinal)
    {
        ["abs"] = Abs,
        ["attr"] = (v, a, _) => Access.GetAttr(v, a.GetString(0, "name", "attr")),
        ["batch"] = Batch,
        ["capitalize"] = (v, _, _) => StringValue.Of(PyString.Capitalize(Str(v))),
        ["center"] = (v, a, _) => StringValue.Of(PyString.Center(Str(v), (int)a.GetInt(0, "width", "center", 80))),
        ["count"] = Length,
        ["d"] = Default,
        ["default"] = Default,
        ["dictsort"] = DictSort,
        ["e"] = Escape,
        ["escape"] = Escape,
        ["first"] = First,
        ["float"] = Float,
        ["forceescape"] = Escape,
        ["format"] = (v, a, _) => StringValue.Of(PercentFormat.Format(Str(v), a.Positional, null)),
        ["indent"] = Indent,
        ["int"] = Int,
        ["items"] = Items,
        ["join"] = Join,
        ["last"] = Last,
        ["length"] = Length,
        ["list"] = (v, _, _) => new ListValue(Operators.Iterate(v).ToList()),
        ["lower"] = (v, _, _) => StringValue.Of(Str(v).ToLowerInvariant()),
        ["map"] = Map,
        ["max"] = (v, a, _) => MinMax(v, a, max: true),
        ["min"] = (v, a, _) => MinMax(v, a, max: false),
        ["reject"] = (v, a, ev) => Select(v, a, ev, byAttribute: false, keep: false),
        ["rejectattr"] = (v, a, ev) => Select(v, a, ev, byAttribute: true, keep: false),
        ["replace"] = Replace,
        ["reverse"] = Reverse,
        ["round"] = Round,
        ["safe"] = (v, _, _) => v,
        ["select"] = (v, a, ev) => Select(v, a, ev, byAttribute: false, keep: true),
        ["selectattr"] = (v, a, ev) => Select(v, a, ev, byAttribute: true, keep: true),
        ["sort"] = Sort,
        ["string"] = (v, _, _) => v is StringValue ? v : StringValue.Of(v.ToStr()),
        ["sum"] = Sum,
        ["title"] = Title,
        ["tojson"] = ToJson,
        ["trim"] = (v, a, _) => StringValue.Of(PyString.Strip(Str(v), OptString(a.Get(0, "chars")), true, true)),
        ["truncate"] = Truncate,
        ["unique"] = Unique,
        ["upper"] = (v, _, _) => StringValue.Of(Str(v).ToUpperInvariant()),
        ["wordcount"] = (v, _, _) => IntValue.Of(WordRegex().Matches(Str(v)).Count),
    };

    public static bool TryGet(string name, out FilterFunction filter) => Registry.TryGetValue(name, out filter!);

    public static Value Apply(string name, Value input, Arguments args, Evaluator ev)
    {
        if (!Registry.TryGetValue(name, out var f)) throw new TemplateException($"No filter named '{name}'.");
        return f(input, args, ev);
    }

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordRegex();

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex TitleSplitRegex();

    private static string Str(Value v) => v.ToStr();

    private static string? OptString(Value? v) => v switch
    {
        null or NoneValue or UndefinedValue => null,
        StringValue s => s.Value,
        _ => v.ToStr(),
    };

    private static Value Default(Value v, Arguments a, Evaluator _)
    {
        a.Check("default", "default_value", "boolean");
        var fallback = a.Get(0, "default_value", StringValue.Empty);
        bool boolean = a.GetBool(1, "boolean", false);
        if (v.IsUndefined || (boolean && !v.IsTruthy)) return fallback;
        return v;
    }

    private static Value Length(Value v, Arguments a, Evaluator _)
    {
        if (v is NamespaceValue ns) return IntValue.Of(ns.Attributes.Count);
        return IntValue.Of(Operators.Length(v));
    }

    private static Value Abs(Value v, Arguments a, Evaluator _) => v switch
    {
        IntValue i => IntValue.Of(i.Value == long.MinValue ? throw new TemplateException("integer overflow") : Math.Abs(i.Value)),
        BoolValue b => IntValue.Of(b.Value ? 1 : 0),
        FloatValue f => new FloatValue(Math.Abs(f.Value)),
        UndefinedValue u => throw u.Fail(),
        _ => throw new TemplateException($"bad operand type for abs(): '{v.TypeName}'"),
    };

    private static Value First(Value v, Arguments a, Evaluator _)
    {
        var items = Operators.Iterate(v);
        return items.Count > 0 ? items[0] : new UndefinedValue("No first item, sequence was empty.");
    }

    private static Value Last(Value v, Arguments a, Evaluator _)
    {
        var items = Operators.Iterate(v);
        return items.Count > 0 ? items[^1] : new UndefinedValue("No last item, sequence was empty.");
    }

    private static Value Join(Value v, Arguments a, Evaluator _)
    {
        a.Check("join", "d", "attribute");
        string sep = OptString(a.Get(0, "d")) ?? "";
        var attribute = OptString(a.Get(1, "attribute"));
        var sb = new StringBuilder();
        bool first = true;
        foreach (var item in Operators.Iterate(v))
        {
            if (!first) sb.Append(sep);
            first = false;
            sb.Append((attribute is null ? item : Access.GetPath(item, attribute)).ToStr());
        }
        return StringValue.Of(sb.ToString());
    }

    private static Value Int(Value v, Arguments a, Evaluator _)
    {
        a.Check("int", "default", "base");
        var fallback = a.Get(0, "default", IntValue.Of(0));
        long numberBase = a.GetInt(1, "base", "int", 10);
        switch (v)
        {
            case IntValue:
                return v;
            case BoolValue b:
                return IntValue.Of(b.Value ? 1 : 0);
            case FloatValue f:
                return double.IsFinite(f.Value) && Math.Abs(f.Value) < 9.2e18 ? IntValue.Of((long)Math.Truncate(f.Value)) : fallback;
            case StringValue s:
            {
                string t = s.Value.Trim().Replace("_", "");
                if (numberBase == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return IntValue.Of(l);
                if (numberBase != 10)
                {
                    try
                    {
                        string digits = t.ToLowerInvariant();
                        if (numberBase == 16 && digits.StartsWith("0x", StringComparison.Ordinal)) digits = digits[2..];
                        if (numberBase == 8 && digits.StartsWith("0o", StringComparison.Ordinal)) digits = digits[2..];
                        if (numberBase == 2 && digits.StartsWith("0b", StringComparison.Ordinal)) digits = digits[2..];
                        return IntValue.Of(Convert.ToInt64(digits, (int)numberBase));
                    }
                    catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException)
                    {
                        return fallback;
                    }
                }
                if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) && Math.Abs(d) < 9.2e18)
                    return IntValue.Of((long)Math.Truncate(d));
                return fallback;
            }
            default:
                return fallback;
        }
    }

    private static Value Float(Value v, Arguments a, Evaluator _)
    {
        a.Check("float", "default");
        var fallback = a.Get(0, "default", new FloatValue(0.0));
        switch (v)
        {
            case FloatValue:
                return v;
            case IntValue or BoolValue:
                return new FloatValue(Operators.ToDouble(v));
            case StringValue s:
            {
                string t = s.Value.Trim().Replace("_", "");
                string lower = t.ToLowerInvariant();
                if (lower is "inf" or "+inf" or "infinity" or "+infinity") return new FloatValue(double.PositiveInfinity);
                if (lower is "-inf" or "-infinity") return new FloatValue(double.NegativeInfinity);
                if (lower is "nan" or "+nan" or "-nan") return new FloatValue(double.NaN);
                return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? new FloatValue(d) : fallback;
            }
            default:
                return fallback;
        }
    }

    private static Value Round(Value v, Arguments a, Evaluator _)
    {
        a.Check("round", "precision", "method");
        int precision = (int)a.GetInt(0, "precision", "round", 0);
        string method = OptString(a.Get(1, "method")) ?? "common";
        if (!Operators.IsNumber(v)) throw new TemplateException($"type {v.TypeName} doesn't define __round__ method");
        double x = Operators.ToDouble(v);
        double scale = Math.Pow(10, precision);
        switch (method)
        {
            case "common":
                if (Operators.TryInt(v, out long n))
                {
                    if (precision >= 0) return IntValue.Of(n);
                    if (precision < -18) return IntValue.Of(0);
                    long unit = (long)Math.Pow(10, -precision);
                    long q = Math.DivRem(n, unit, out long r);
                    if (r < 0) { q--; r += unit; } // floor division, as Python's divmod
                    if (r * 2 > unit || (r * 2 == unit && (q & 1) == 1)) q++;
                    return IntValue.Of(q * unit);
                }
                // Python rounds the exact binary value half-to-even (2.675 -> 2.67); .NET's "F" formatting does the same.
                if (precision >= 0 && precision <= 15 && double.IsFinite(x))
                    return new FloatValue(double.Parse(x.ToString("F" + precision, CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
                return new FloatValue(Math.Round(x * scale, MidpointRounding.ToEven) / scale);
            case "ceil":
                return new FloatValue(Math.Ceiling(x * scale) / scale);
            case "floor":
                return new FloatValue(Math.Floor(x * scale) / scale);
            default:
                throw new TemplateException("method must be common, ceil or floor");
        }
    }

    private static Value Replace(Value v, Arguments a, Evaluator _)
    {
        a.Check("replace", "old", "new", "count");
        string old = a.Required(0, "old", "replace").ToStr();
        string @new = a.Required(1, "new", "replace").ToStr();
        var countV = a.Get(2, "count");
        long count = countV is null or NoneValue ? -1 : Operators.TryInt(countV, out long c) ? c : -1;
        return StringValue.Of(PyString.Replace(Str(v), old, @new, count));
    }

    private static Value Reverse(Value v, Arguments a, Evaluator _)
    {
        if (v is StringValue s)
        {
            var cps = PyString.CodePoints(s.Value);
            cps.Reverse();
            return StringValue.Of(string.Concat(cps));
        }
        var items = Operators.Iterate(v).ToList();
        items.Reverse();
        return new ListValue(items);
    }

    private static Value Title(Value v, Arguments a, Evaluator _)
    {
        var sb = new StringBuilder();
        foreach (var part in TitleSplitRegex().Split(Str(v)))
        {
            if (part.Length == 0) continue;
            sb.Append(char.ToUpperInvariant(part[0])).Append(part[1..].ToLowerInvariant());
        }
        return StringValue.Of(sb.ToString());
    }

    private static Value Escape(Value v, Arguments a, Evaluator _)
    {
        string s = Str(v);
        var sb = new StringBuilder(s.Length);
        foreach (char c in s)
        {
            sb.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&#34;",
                '\'' => "&#39;",
                _ => c.ToString(),
            });
        }
        return StringValue.Of(sb.ToString());
    }

    private static Value Items(Value v, Arguments a, Evaluator _) => v switch
    {
        DictValue d => new ListValue(d.Entries.Select(kv => (Value)new ListValue([kv.Key, kv.Value], true)).ToList()),
        UndefinedValue => ListValue.EmptyList,
        _ => throw new TemplateException($"Can only get item pairs from a mapping, not {v.TypeName}."),
    };

    private static Value DictSort(Value v, Arguments a, Evaluator _)
    {
        a.Check("dictsort", "case_sensitive", "by", "reverse");
        if (v is not DictValue d) throw new TemplateException("dictsort filter expects a mapping");
        bool caseSensitive = a.GetBool(0, "case_sensitive", false);
        string by = OptString(a.Get(1, "by")) ?? "key";
        bool reverse = a.GetBool(2, "reverse", false);
        int pos = by switch
        {
            "key" => 0,
            "value" => 1,
            _ => throw new TemplateException("You can only sort by either \"key\" or \"value\""),
        };
        var pairs = d.Entries.Select(kv => (Value)new ListValue([kv.Key, kv.Value], true)).ToList();
        return new ListValue(StableSort(pairs, p => SortKey(((ListValue)p).Items[pos], caseSensitive), reverse));
    }

    private static Value SortKey(Value v, bool caseSensitive) =>
        !caseSensitive && v is StringValue s ? StringValue.Of(s.Value.ToLowerInvariant()) : v;

    private static List<Value> StableSort(List<Value> items, Func<Value, Value> key, bool reverse)
    {
        var keyed = items.Select((item, index) => (Item: item, Key: key(item), Index: index)).ToList();
        keyed.Sort((x, y) =>
        {
            int c = Operators.Order(x.Key, y.Key);
            if (reverse) c = -c;
            return c != 0 ? c : x.Index.CompareTo(y.Index);
        });
        return keyed.Select(k => k.Item).ToList();
    }

    private static Value Sort(Value v, Arguments a, Evaluator _)
    {
        a.Check("sort", "reverse", "case_sensitive", "attribute");
        bool reverse = a.GetBool(0, "reverse", false);
        bool caseSensitive = a.GetBool(1, "case_sensitive", false);
        string? attribute = OptString(a.Get(2, "attribute"));
        var items = Operators.Iterate(v).ToList();
        return new ListValue(StableSort(items, x => SortKey(attribute is null ? x : Access.GetPath(x, attribute), caseSensitive), reverse));
    }

    private static Value Unique(Value v, Arguments a, Evaluator _)
    {
        a.Check("unique", "case_sensitive", "attribute");
        bool caseSensitive = a.GetBool(0, "case_sensitive", false);
        string? attribute = OptString(a.Get(1, "attribute"));
        var seen = new HashSet<Value>();
        var result = new List<Value>();
        foreach (var item in Operators.Iterate(v))
        {
            var key = SortKey(attribute is null ? item : Access.GetPath(item, attribute), caseSensitive);
            if (seen.Add(key)) result.Add(item);
        }
        return new ListValue(result);
    }

    private static Value MinMax(Value v, Arguments a, bool max)
    {
        a.Check(max ? "max" : "min", "case_sensitive", "attribute");
        bool caseSensitive = a.GetBool(0, "case_sensitive", false);
        string? attribute = OptString(a.Get(1, "attribute"));
        Value? best = null, bestKey = null;
        foreach (var item in Operators.Iterate(v))
        {
            var key = SortKey(attribute is null ? item : Access.GetPath(item, attribute), caseSensitive);
            if (best is null || (max ? Operators.Order(key, bestKey!) > 0 : Operators.Order(key, bestKey!) < 0))
            {
                best = item;
                bestKey = key;
            }
        }
        return best ?? new UndefinedValue($"No aggregated item, sequence was empty.");
    }

    private static Value Sum(Value v, Arguments a, Evaluator _)
    {
        a.Check("sum", "attribute", "start");
        string? attribute = OptString(a.Get(0, "attribute"));
        Value total = a.Get(1, "start", IntValue.Of(0));
        foreach (var item in Operators.Iterate(v))
        {
            total = Operators.Binary(Syntax.BinaryOp.Add, total, attribute is null ? item : Access.GetPath(item, attribute));
        }
        return total;
    }

    private static Value Map(Value v, Arguments a, Evaluator ev)
    {
        var items = Operators.Iterate(v);
        var result = new List<Value>(items.Count);
        var attribute = a.Named.FirstOrDefault(kv => kv.Key == "attribute").Value;
        if (attribute is not null)
        {
            var fallback = a.Named.FirstOrDefault(kv => kv.Key == "default").Value;
            string path = attribute.ToStr();
            foreach (var item in items)
            {
                var x = Access.GetPath(item, path);
                result.Add(x.IsUndefined && fallback is not null ? fallback : x);
            }
            return new ListValue(result);
        }

        if (a.Positional.Count == 0) throw new TemplateException("map requires a filter name or attribute=");
        string filter = a.Positional[0].ToStr();
        if (!TryGet(filter, out var f)) throw new TemplateException($"No filter named '{filter}'.");
        var rest = new Arguments(a.Positional.Skip(1).ToList(), a.Named);
        foreach (var item in items) result.Add(f(item, rest, ev));
        return new ListValue(result);
    }

    private static Value Select(Value v, Arguments a, Evaluator ev, bool byAttribute, bool keep)
    {
        var items = Operators.Iterate(v);
        int offset = 0;
        string? attribute = null;
        if (byAttribute)
        {
            if (a.Positional.Count == 0) throw new TemplateException("selectattr/rejectattr require an attribute name");
            attribute = a.Positional[0].ToStr();
            offset = 1;
        }

        string? test = a.Positional.Count > offset ? a.Positional[offset].ToStr() : null;
        var testArgs = new Arguments(a.Positional.Skip(offset + 1).ToList(), a.Named);
        var result = new List<Value>();
        foreach (var item in items)
        {
            var subject = attribute is null ? item : Access.GetPath(item, attribute);
            bool ok = test is null ? subject.IsTruthy : Tests.Apply(test, subject, testArgs, ev);
            if (ok == keep) result.Add(item);
        }
        return new ListValue(result);
    }

    private static Value Batch(Value v, Arguments a, Evaluator _)
    {
        a.Check("batch", "linecount", "fill_with");
        long size = a.GetInt(0, "linecount", "batch", 0);
        if (size <= 0) throw new TemplateException("batch linecount must be positive");
        var fill = a.Get(1, "fill_with");
        var result = new List<Value>();
        var current = new List<Value>();
        foreach (var item in Operators.Iterate(v))
        {
            if (current.Count == size)
            {
                result.Add(new ListValue(current));
                current = [];
            }
            current.Add(item);
        }
        if (current.Count > 0)
        {
            if (fill is not null && fill is not NoneValue) while (current.Count < size) current.Add(fill);
            result.Add(new ListValue(current));
        }
        return new ListValue(result);
    }

    private static Value Truncate(Value v, Arguments a, Evaluator _)
    {
        a.Check("truncate", "length", "killwords", "end", "leeway");
        string s = Str(v);
        long length = a.GetInt(0, "length", "truncate", 255);
        bool killwords = a.GetBool(1, "killwords", false);
        string end = OptString(a.Get(2, "end")) ?? "...";
        long leeway = a.GetInt(3, "leeway", "truncate", 5);
        if (s.Length <= length + leeway) return StringValue.Of(s);
        int cut = (int)Math.Max(0, length - end.Length);
        if (killwords) return StringValue.Of(s[..cut] + end);
        string head = s[..cut];
        int space = head.LastIndexOf(' ');
        if (space >= 0) head = head[..space];
        return StringValue.Of(head + end);
    }

    private static Value Indent(Value v, Arguments a, Evaluator _)
    {
        a.Check("indent", "width", "first", "blank");
        var widthV = a.Get(0, "width", IntValue.Of(4));
        string indention = widthV is StringValue ws ? ws.Value
            : Operators.TryInt(widthV, out long w) ? new string(' ', (int)Math.Max(0, w))
            : throw new TemplateException("indent width must be an integer or a string");
        bool first = a.GetBool(1, "first", false);
        bool blank = a.GetBool(2, "blank", false);

        string s = Str(v) + "\n"; // Jinja appends a newline so a trailing one survives splitlines()
        var lines = PyString.SplitLines(s);
        var sb = new StringBuilder();
        if (blank)
        {
            sb.AppendJoin("\n" + indention, lines);
        }
        else
        {
            sb.Append(lines.Count > 0 ? lines[0] : "");
            for (int i = 1; i < lines.Count; i++)
            {
                sb.Append('\n');
                if (lines[i].Length > 0) sb.Append(indention);
                sb.Append(lines[i]);
            }
        }
        string rv = sb.ToString();
        if (first) rv = indention + rv;
        return StringValue.Of(rv);
    }

    private static Value ToJson(Value v, Arguments a, Evaluator _)
    {
        a.Check("tojson", "indent", "ensure_ascii", "separators", "sort_keys");
        var indentV = a.Get(0, "indent");
        string? indent = indentV switch
        {
            null or NoneValue => null,
            StringValue s => s.Value,
            _ when Operators.TryInt(indentV, out long n) => new string(' ', (int)Math.Max(0, n)),
            _ => throw new TemplateException("tojson indent must be an integer, a string or None"),
        };
        bool ascii = a.GetBool(1, "ensure_ascii", false);
        string? itemSep = null, keySep = null;
        var sepV = a.Get(2, "separators");
        if (sepV is ListValue { Count: 2 } seps && seps.Items[0] is StringValue s0 && seps.Items[1] is StringValue s1)
        {
            itemSep = s0.Value;
            keySep = s1.Value;
        }
        else if (sepV is not null && sepV is not NoneValue)
        {
            throw new TemplateException("tojson separators must be a pair of strings");
        }
        bool sortKeys = a.GetBool(3, "sort_keys", false);
        return StringValue.Of(PyJson.Dumps(v, indent, ascii, itemSep, keySep, sortKeys));
    }
}
