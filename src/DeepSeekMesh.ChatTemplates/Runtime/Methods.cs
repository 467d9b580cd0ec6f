using System.Text;
using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>
/// Python methods callable on values: str methods, dict.get/items/keys/values, list.index/count.
/// Mutating methods exist (so templates that use them fail clearly) but are refused, as in HF's
/// ImmutableSandboxedEnvironment.
/// </summary>
internal static class Methods
{
    private static readonly HashSet<string> StringMethods =
    [
        "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "upper", "lower",
        "replace", "format", "title", "capitalize", "join", "find", "rfind", "index", "count", "isdigit", "isalpha",
        "isalnum", "isspace", "islower", "isupper", "removeprefix", "removesuffix", "ljust", "rjust", "center",
        "casefold", "swapcase", "zfill",
    ];

    private static readonly HashSet<string> DictMethods = ["get", "items", "keys", "values", "copy"];
    private static readonly HashSet<string> UnsafeDictMethods = ["update", "pop", "popitem", "setdefault", "clear"];
    private static readonly HashSet<string> ListMethods = ["index", "count", "copy"];
    private static readonly HashSet<string> UnsafeListMethods = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];

    public static bool IsMethod(Value receiver, string name) => receiver switch
    {
        StringValue => StringMethods.Contains(name),
        DictValue => DictMethods.Contains(name) || UnsafeDictMethods.Contains(name),
        ListValue l => ListMethods.Contains(name) || (!l.IsTuple && UnsafeListMethods.Contains(name)),
        _ => false,
    };

    public static Value Call(Value receiver, string name, Arguments args, Evaluator ev)
    {
        switch (receiver)
        {
            case StringValue s:
                return CallString(s.Value, name, args, ev);
            case DictValue d:
                if (UnsafeDictMethods.Contains(name)) throw Unsafe(d, name);
                return CallDict(d, name, args);
            case ListValue l:
                if (UnsafeListMethods.Contains(name)) throw Unsafe(l, name);
                return CallList(l, name, args);
            default:
                throw new TemplateException($"'{receiver.TypeName}' object has no attribute '{name}'");
        }
    }

    private static TemplateException Unsafe(Value v, string name) =>
        new($"access to attribute '{name}' of '{v.TypeName}' object is unsafe (template values are immutable)");

    private static Value CallDict(DictValue d, string name, Arguments args)
    {
        switch (name)
        {
            case "get":
                args.Check("get", "key", "default");
                var key = args.Required(0, "key", "get");
                return d.TryGet(key, out var v) ? v : args.Get(1, "default", NoneValue.Instance);
            case "items":
                args.Check("items");
                return new ListValue(d.Entries.Select(kv => (Value)new ListValue([kv.Key, kv.Value], true)).ToList());
            case "keys":
                args.Check("keys");
                return new ListValue(d.Entries.Keys.ToList());
            case "values":
                args.Check("values");
                return new ListValue(d.Entries.Values.ToList());
            case "copy":
                args.Check("copy");
                return d;
            default:
                throw new TemplateException($"'dict' object has no attribute '{name}'");
        }
    }

    private static Value CallList(ListValue l, string name, Arguments args)
    {
        switch (name)
        {
            case "index":
            {
                var x = args.Required(0, "value", "index");
                for (int i = 0; i < l.Count; i++)
                {
                    if (l.Items[i].Equals(x)) return IntValue.Of(i);
                }
                throw new TemplateException($"{x.Repr()} is not in list");
            }
            case "count":
            {
                var x = args.Required(0, "value", "count");
                return IntValue.Of(l.Items.Count(v => v.Equals(x)));
            }
            case "copy":
                return l;
            default:
                throw new TemplateException($"'{l.TypeName}' object has no attribute '{name}'");
        }
    }

    private static string? OptChars(Arguments args, string fn)
    {
        var v = args.Get(0, "chars");
        return v switch
        {
            null or NoneValue => null,
            StringValue s => s.Value,
            _ => throw new TemplateException($"{fn} arg must be None or str"),
        };
    }

    private static Value CallString(string s, string name, Arguments args, Evaluator ev)
    {
        switch (name)
        {
            case "strip": return StringValue.Of(PyString.Strip(s, OptChars(args, name), true, true));
            case "lstrip": return StringValue.Of(PyString.Strip(s, OptChars(args, name), true, false));
            case "rstrip": return StringValue.Of(PyString.Strip(s, OptChars(args, name), false, true));
            case "upper": return StringValue.Of(s.ToUpperInvariant());
            case "lower":
            case "casefold": return StringValue.Of(s.ToLowerInvariant());
            case "title": return StringValue.Of(PyString.PyTitle(s));
            case "capitalize": return StringValue.Of(PyString.Capitalize(s));
            case "swapcase":
                return StringValue.Of(string.Concat(s.Select(c => char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c))));
            case "startswith":
            case "endswith":
            {
                var prefix = args.Required(0, "prefix", name);
                string sub = s;
                if (args.Positional.Count > 1)
                {
                    var start = args.Positional[1];
                    var stop = args.Positional.Count > 2 ? args.Positional[2] : null;
                    sub = ((StringValue)Operators.Slice(new StringValue(s), start, stop, null)).Value;
                }
                IEnumerable<Value> options = prefix is ListValue { IsTuple: true } t ? t.Items : [prefix];
                foreach (var o in options)
                {
                    if (o is not StringValue os)
                        throw new TemplateException($"{name} first arg must be str or a tuple of str, not {o.TypeName}");
                    bool hit = name == "startswith" ? sub.StartsWith(os.Value, StringComparison.Ordinal) : sub.EndsWith(os.Value, StringComparison.Ordinal);
                    if (hit) return BoolValue.True;
                }
                return BoolValue.False;
            }
            case "split":
            case "rsplit":
            {
                args.Check(name, "sep", "maxsplit");
                var sepV = args.Get(0, "sep");
                string? sep = sepV is null or NoneValue ? null
                    : sepV is StringValue sv ? sv.Value : throw new TemplateException($"must be str or None, not {sepV.TypeName}");
                long max = args.GetInt(1, "maxsplit", name, -1);
                return new ListValue(PyString.Split(s, sep, max, name == "rsplit"));
            }
            case "splitlines":
                return new ListValue(PyString.SplitLines(s).Select(x => (Value)StringValue.Of(x)).ToList());
            case "replace":
            {
                string old = args.GetString(0, "old", name);
                string @new = args.GetString(1, "new", name);
                long count = args.GetInt(2, "count", name, -1);
                return StringValue.Of(PyString.Replace(s, old, @new, count));
            }
            case "join":
            {
                var iterable = args.Required(0, "iterable", "join");
                var sb = new StringBuilder();
                bool first = true;
                foreach (var item in Operators.Iterate(iterable))
                {
                    if (item is not StringValue str)
                        throw new TemplateException($"sequence item: expected str instance, {item.TypeName} found");
                    if (!first) sb.Append(s);
                    first = false;
                    sb.Append(str.Value);
                }
                return StringValue.Of(sb.ToString());
            }
            case "find":
            case "rfind":
            case "index":
            case "count":
            {
                string sub = args.GetString(0, "sub", name);
                if (name == "count")
                {
                    if (sub.Length == 0) return IntValue.Of(PyString.Length(s) + 1);
                    int n = 0, pos = 0;
                    while ((pos = s.IndexOf(sub, pos, StringComparison.Ordinal)) >= 0) { n++; pos += sub.Length; }
                    return IntValue.Of(n);
                }
                int idx = name == "rfind" ? s.LastIndexOf(sub, StringComparison.Ordinal) : s.IndexOf(sub, StringComparison.Ordinal);
                if (idx >= 0 && PyString.HasSurrogates(s)) idx = PyString.Length(s[..idx]);
                if (idx < 0 && name == "index") throw new TemplateException("substring not found");
                return IntValue.Of(idx);
            }
            case "isdigit": return BoolValue.Of(s.Length > 0 && s.All(char.IsDigit));
            case "isalpha": return BoolValue.Of(s.Length > 0 && s.All(char.IsLetter));
            case "isalnum": return BoolValue.Of(s.Length > 0 && s.All(char.IsLetterOrDigit));
            case "isspace": return BoolValue.Of(s.Length > 0 && s.All(PyString.IsSpace));
            case "islower": return BoolValue.Of(s.Any(char.IsLetter) && !s.Any(char.IsUpper));
            case "isupper": return BoolValue.Of(s.Any(char.IsLetter) && !s.Any(char.IsLower));
            case "removeprefix":
            {
                string p = args.GetString(0, "prefix", name);
                return StringValue.Of(p.Length > 0 && s.StartsWith(p, StringComparison.Ordinal) ? s[p.Length..] : s);
            }
            case "removesuffix":
            {
                string p = args.GetString(0, "suffix", name);
                return StringValue.Of(p.Length > 0 && s.EndsWith(p, StringComparison.Ordinal) ? s[..^p.Length] : s);
            }
            case "ljust":
            case "rjust":
            case "center":
            {
                int width = (int)args.GetInt(0, "width", name, 0);
                string fill = args.GetString(1, "fillchar", name, " ");
                if (fill.Length != 1) throw new TemplateException("The fill character must be exactly one character long");
                int pad = width - PyString.Length(s);
                if (pad <= 0) return StringValue.Of(s);
                return StringValue.Of(name switch
                {
                    "ljust" => s + new string(fill[0], pad),
                    "rjust" => new string(fill[0], pad) + s,
                    _ => PyString.Center(s, width, fill[0]),
                });
            }
            case "zfill":
            {
                int width = (int)args.GetInt(0, "width", name, 0);
                int pad = width - PyString.Length(s);
                if (pad <= 0) return StringValue.Of(s);
                bool sign = s.Length > 0 && (s[0] == '-' || s[0] == '+');
                return StringValue.Of(sign ? s[0] + new string('0', pad) + s[1..] : new string('0', pad) + s);
            }
            case "format":
                return StringValue.Of(StrFormat(s, args));
            default:
                throw new TemplateException($"'str' object has no attribute '{name}'");
        }
    }

    /// <summary>Python str.format with auto/explicit positional fields, keyword fields and attribute/index lookups.</summary>
    private static string StrFormat(string fmt, Arguments args)
    {
        var sb = new StringBuilder();
        int auto = 0;
        int i = 0;
        while (i < fmt.Length)
        {
            char c = fmt[i];
            if (c == '{')
            {
                if (i + 1 < fmt.Length && fmt[i + 1] == '{') { sb.Append('{'); i += 2; continue; }
                int close = fmt.IndexOf('}', i);
                if (close < 0) throw new TemplateException("Single '{' encountered in format string");
                string field = fmt[(i + 1)..close];
                string spec = "";
                int colon = field.IndexOf(':');
                if (colon >= 0) { spec = field[(colon + 1)..]; field = field[..colon]; }
                int bang = field.IndexOf('!');
                string conv = "";
                if (bang >= 0) { conv = field[(bang + 1)..]; field = field[..bang]; }

                string head = field;
                string rest = "";
                int dot = field.IndexOfAny(['.', '[']);
                if (dot >= 0) { head = field[..dot]; rest = field[dot..]; }

                Value v;
                if (head.Length == 0)
                {
                    if (auto >= args.Positional.Count) throw new TemplateException("Replacement index out of range for positional args tuple");
                    v = args.Positional[auto++];
                }
                else if (int.TryParse(head, out int pi))
                {
                    if (pi >= args.Positional.Count) throw new TemplateException("Replacement index out of range for positional args tuple");
                    v = args.Positional[pi];
                }
                else
                {
                    v = args.Named.FirstOrDefault(kv => kv.Key == head).Value
                        ?? throw new TemplateException($"KeyError: '{head}'");
                }

                while (rest.Length > 0)
                {
                    if (rest[0] == '.')
                    {
                        int end = rest.IndexOfAny(['.', '['], 1);
                        string attr = end < 0 ? rest[1..] : rest[1..end];
                        v = Access.GetAttr(v, attr);
                        rest = end < 0 ? "" : rest[end..];
                    }
                    else
                    {
                        int end = rest.IndexOf(']');
                        if (end < 0) throw new TemplateException("Missing ']' in format string");
                        string key = rest[1..end];
                        v = int.TryParse(key, out int ki) ? Access.GetItem(v, IntValue.Of(ki)) : Access.GetItem(v, new StringValue(key));
                        rest = rest[(end + 1)..];
                    }
                }

                string text = conv == "r" ? v.Repr() : v.ToStr();
                if (spec.Length > 0) text = ApplySpec(text, v, spec);
                sb.Append(text);
                i = close + 1;
            }
            else if (c == '}')
            {
                if (i + 1 < fmt.Length && fmt[i + 1] == '}') { sb.Append('}'); i += 2; continue; }
                throw new TemplateException("Single '}' encountered in format string");
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }

    /// <summary>A subset of the format-spec mini-language: [[fill]align][width][.precision][type].</summary>
    private static string ApplySpec(string text, Value v, string spec)
    {
        int i = 0;
        char fill = ' ';
        char align = v is IntValue or FloatValue ? '>' : '<';
        if (spec.Length >= 2 && spec[1] is '<' or '>' or '^') { fill = spec[0]; align = spec[1]; i = 2; }
        else if (spec.Length >= 1 && spec[0] is '<' or '>' or '^') { align = spec[0]; i = 1; }
        int width = 0;
        while (i < spec.Length && char.IsAsciiDigit(spec[i])) width = width * 10 + (spec[i++] - '0');
        int precision = -1;
        if (i < spec.Length && spec[i] == '.')
        {
            i++;
            precision = 0;
            while (i < spec.Length && char.IsAsciiDigit(spec[i])) precision = precision * 10 + (spec[i++] - '0');
        }
        char type = i < spec.Length ? spec[i] : '\0';
        if (type == 'f' && Operators.IsNumber(v))
            text = Operators.ToDouble(v).ToString("F" + (precision < 0 ? 6 : precision), System.Globalization.CultureInfo.InvariantCulture);
        else if (type == 'd' && Operators.TryInt(v, out long l))
            text = l.ToString(System.Globalization.CultureInfo.InvariantCulture);
        else if (precision >= 0 && v is StringValue && text.Length > precision)
            text = text[..precision];
        int pad = width - PyString.Length(text);
        if (pad <= 0) return text;
        return align switch
        {
            '<' => text + new string(fill, pad),
            '>' => new string(fill, pad) + text,
            _ => new string(fill, pad / 2) + text + new string(fill, pad - pad / 2),
        };
    }
}
