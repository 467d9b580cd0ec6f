using System.Globalization;
using System.Text;
using DeepSeekMesh.ChatTemplates.Syntax;
using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>Python semantics of the binary/unary operators, comparisons, membership and iteration.</summary>
internal static class Operators
{
    public static void CheckDefined(Value v)
    {
        if (v is UndefinedValue u) throw u.Fail();
    }

    public static bool IsNumber(Value v) => v is IntValue or FloatValue or BoolValue;

    public static bool TryInt(Value v, out long value)
    {
        switch (v)
        {
            case IntValue i: value = i.Value; return true;
            case BoolValue b: value = b.Value ? 1 : 0; return true;
            default: value = 0; return false;
        }
    }

    public static double ToDouble(Value v) => v switch
    {
        IntValue i => i.Value,
        FloatValue f => f.Value,
        BoolValue b => b.Value ? 1 : 0,
        _ => throw new TemplateException($"expected a number, got {v.TypeName}"),
    };

    private static TemplateException Unsupported(string op, Value a, Value b) =>
        new($"unsupported operand type(s) for {op}: '{a.TypeName}' and '{b.TypeName}'");

    private static T Checked<T>(Func<T> f)
    {
        try
        {
            return f();
        }
        catch (OverflowException)
        {
            throw new TemplateException("integer overflow");
        }
    }

    public static Value Binary(BinaryOp op, Value a, Value b)
    {
        if (op == BinaryOp.Concat) return StringValue.Of(a.ToStr() + b.ToStr());
        CheckDefined(a);
        CheckDefined(b);
        return op switch
        {
            BinaryOp.Add => Add(a, b),
            BinaryOp.Sub => Arith("-", a, b, (x, y) => checked(x - y), (x, y) => x - y),
            BinaryOp.Mul => Mul(a, b),
            BinaryOp.Div => Div(a, b),
            BinaryOp.FloorDiv => FloorDiv(a, b),
            BinaryOp.Mod => Mod(a, b),
            BinaryOp.Pow => Pow(a, b),
            _ => throw new TemplateException($"unknown operator {op}"),
        };
    }

    private static Value Arith(string op, Value a, Value b, Func<long, long, long> ints, Func<double, double, double> floats)
    {
        if (TryInt(a, out long x) && TryInt(b, out long y)) return IntValue.Of(Checked(() => ints(x, y)));
        if (IsNumber(a) && IsNumber(b)) return new FloatValue(floats(ToDouble(a), ToDouble(b)));
        throw Unsupported(op, a, b);
    }

    private static Value Add(Value a, Value b)
    {
        if (a is StringValue sa && b is StringValue sb) return StringValue.Of(sa.Value + sb.Value);
        if (a is ListValue la && b is ListValue lb && la.IsTuple == lb.IsTuple)
        {
            var items = new List<Value>(la.Count + lb.Count);
            items.AddRange(la.Items);
            items.AddRange(lb.Items);
            return new ListValue(items, la.IsTuple);
        }
        if (a is StringValue) throw new TemplateException($"can only concatenate str (not \"{b.TypeName}\") to str");
        if (a is ListValue { IsTuple: false }) throw new TemplateException($"can only concatenate list (not \"{b.TypeName}\") to list");
        return Arith("+", a, b, (x, y) => checked(x + y), (x, y) => x + y);
    }

    private static Value Mul(Value a, Value b)
    {
        if (a is StringValue or ListValue && TryInt(b, out long n)) return Repeat(a, n);
        if (b is StringValue or ListValue && TryInt(a, out long m)) return Repeat(b, m);
        return Arith("*", a, b, (x, y) => checked(x * y), (x, y) => x * y);
    }

    private static Value Repeat(Value v, long n)
    {
        if (n <= 0) return v is StringValue ? StringValue.Empty : new ListValue([], ((ListValue)v).IsTuple);
        if (v is StringValue s)
        {
            if ((long)s.Value.Length * n > 100_000_000) throw new TemplateException("string repetition result is too large");
            var sb = new StringBuilder();
            for (long i = 0; i < n; i++) sb.Append(s.Value);
            return StringValue.Of(sb.ToString());
        }
        var l = (ListValue)v;
        if (l.Count * n > 10_000_000) throw new TemplateException("list repetition result is too large");
        var items = new List<Value>();
        for (long i = 0; i < n; i++) items.AddRange(l.Items);
        return new ListValue(items, l.IsTuple);
    }

    private static Value Div(Value a, Value b)
    {
        if (!IsNumber(a) || !IsNumber(b)) throw Unsupported("/", a, b);
        double y = ToDouble(b);
        if (y == 0) throw new TemplateException("division by zero");
        return new FloatValue(ToDouble(a) / y);
    }

    private static Value FloorDiv(Value a, Value b)
    {
        if (TryInt(a, out long x) && TryInt(b, out long y))
        {
            if (y == 0) throw new TemplateException("integer division or modulo by zero");
            long q = x / y;
            if ((x % y != 0) && ((x < 0) != (y < 0))) q--;
            return IntValue.Of(q);
        }
        if (!IsNumber(a) || !IsNumber(b)) throw Unsupported("//", a, b);
        double d = ToDouble(b);
        if (d == 0) throw new TemplateException("float floor division by zero");
        return new FloatValue(Math.Floor(ToDouble(a) / d));
    }

    private static Value Mod(Value a, Value b)
    {
        if (a is StringValue fmt) return StringValue.Of(PercentFormat.Format(fmt.Value, b));
        if (TryInt(a, out long x) && TryInt(b, out long y))
        {
            if (y == 0) throw new TemplateException("integer division or modulo by zero");
            long r = x % y;
            if (r != 0 && ((r < 0) != (y < 0))) r += y;
            return IntValue.Of(r);
        }
        if (!IsNumber(a) || !IsNumber(b)) throw Unsupported("%", a, b);
        double dy = ToDouble(b);
        if (dy == 0) throw new TemplateException("float modulo");
        double fr = ToDouble(a) % dy;
        if (fr != 0 && ((fr < 0) != (dy < 0))) fr += dy;
        return new FloatValue(fr);
    }

    private static Value Pow(Value a, Value b)
    {
        if (TryInt(a, out long x) && TryInt(b, out long y) && y >= 0)
        {
            return IntValue.Of(Checked(() =>
            {
                long result = 1, bas = x, e = y;
                while (e > 0)
                {
                    if ((e & 1) == 1) result = checked(result * bas);
                    e >>= 1;
                    if (e > 0) bas = checked(bas * bas);
                }
                return result;
            }));
        }
        if (!IsNumber(a) || !IsNumber(b)) throw Unsupported("**", a, b);
        return new FloatValue(Math.Pow(ToDouble(a), ToDouble(b)));
    }

    public static Value Negate(Value v, bool plus)
    {
        CheckDefined(v);
        return v switch
        {
            IntValue i => plus ? i : IntValue.Of(Checked(() => checked(-i.Value))),
            BoolValue b => IntValue.Of(plus ? (b.Value ? 1 : 0) : (b.Value ? -1 : 0)),
            FloatValue f => plus ? f : new FloatValue(-f.Value),
            _ => throw new TemplateException($"bad operand type for unary {(plus ? "+" : "-")}: '{v.TypeName}'"),
        };
    }

    // ------------------------------------------------------------ comparison

    public static bool Compare(CompareOp op, Value a, Value b) => op switch
    {
        CompareOp.Eq => a.Equals(b),
        CompareOp.Ne => !a.Equals(b),
        CompareOp.Lt => Order(a, b, "<") < 0,
        CompareOp.Le => Order(a, b, "<=") <= 0,
        CompareOp.Gt => Order(a, b, ">") > 0,
        CompareOp.Ge => Order(a, b, ">=") >= 0,
        CompareOp.In => Contains(b, a),
        CompareOp.NotIn => !Contains(b, a),
        _ => false,
    };

    /// <summary>Python ordering for numbers, strings and same-kind sequences.</summary>
    public static int Order(Value a, Value b, string op = "<")
    {
        CheckDefined(a);
        CheckDefined(b);
        if (TryInt(a, out long x) && TryInt(b, out long y)) return x.CompareTo(y);
        if (IsNumber(a) && IsNumber(b))
        {
            double da = ToDouble(a), db = ToDouble(b);
            return da < db ? -1 : da > db ? 1 : 0;
        }
        if (a is StringValue sa && b is StringValue sb) return Math.Sign(string.CompareOrdinal(sa.Value, sb.Value));
        if (a is ListValue la && b is ListValue lb && la.IsTuple == lb.IsTuple)
        {
            int n = Math.Min(la.Count, lb.Count);
            for (int i = 0; i < n; i++)
            {
                if (la.Items[i].Equals(lb.Items[i])) continue;
                return Order(la.Items[i], lb.Items[i], op);
            }
            return la.Count.CompareTo(lb.Count);
        }
        throw new TemplateException($"'{op}' not supported between instances of '{a.TypeName}' and '{b.TypeName}'");
    }

    public static bool Contains(Value container, Value item)
    {
        switch (container)
        {
            case StringValue s:
                if (item is not StringValue needle)
                    throw new TemplateException($"'in <string>' requires string as left operand, not {item.TypeName}");
                return s.Value.Contains(needle.Value, StringComparison.Ordinal);
            case ListValue l:
                foreach (var v in l.Items)
                {
                    if (v.Equals(item)) return true;
                }
                return false;
            case DictValue d:
                return d.TryGet(item, out _);
            case UndefinedValue:
                return false;
            default:
                throw new TemplateException($"argument of type '{container.TypeName}' is not iterable");
        }
    }

    // ------------------------------------------------------------ iteration / length

    /// <summary>What <c>for x in value</c> iterates: list items, dict keys, string characters; undefined is empty.</summary>
    public static IReadOnlyList<Value> Iterate(Value v) => v switch
    {
        ListValue l => l.Items,
        DictValue d => d.Entries.Keys.ToList(),
        StringValue s => PyString.Chars(s.Value),
        UndefinedValue => [],
        _ => throw new TemplateException($"'{v.TypeName}' object is not iterable"),
    };

    public static int Length(Value v) => v switch
    {
        StringValue s => PyString.Length(s.Value),
        ListValue l => l.Count,
        DictValue d => d.Count,
        UndefinedValue => 0,
        _ => throw new TemplateException($"object of type '{v.TypeName}' has no len()"),
    };

    // ------------------------------------------------------------ slicing

    public static Value Slice(Value target, Value? start, Value? stop, Value? step)
    {
        long? Index(Value? v)
        {
            if (v is null || v is NoneValue) return null;
            if (TryInt(v, out long i)) return i;
            throw new TemplateException("slice indices must be integers or None");
        }

        long st = Index(step) ?? 1;
        if (st == 0) throw new TemplateException("slice step cannot be zero");
        switch (target)
        {
            case ListValue l:
            {
                var items = new List<Value>();
                foreach (int i in SliceIndices(l.Count, Index(start), Index(stop), st)) items.Add(l.Items[i]);
                return new ListValue(items, l.IsTuple);
            }
            case StringValue s:
            {
                var sb = new StringBuilder();
                if (!PyString.HasSurrogates(s.Value))
                {
                    foreach (int i in SliceIndices(s.Value.Length, Index(start), Index(stop), st)) sb.Append(s.Value[i]);
                }
                else
                {
                    var cps = PyString.CodePoints(s.Value);
                    foreach (int i in SliceIndices(cps.Count, Index(start), Index(stop), st)) sb.Append(cps[i]);
                }
                return StringValue.Of(sb.ToString());
            }
            case UndefinedValue u:
                return u;
            default:
                throw new TemplateException($"'{target.TypeName}' object is not subscriptable");
        }
    }

    /// <summary>The indices a Python slice selects (PySlice_AdjustIndices).</summary>
    public static IEnumerable<int> SliceIndices(int length, long? start, long? stop, long step)
    {
        long Adjust(long? v, bool isStart)
        {
            if (v is null) return step < 0 ? (isStart ? length - 1 : -1) : (isStart ? 0 : length);
            long x = v.Value;
            if (x < 0)
            {
                x += length;
                if (x < 0) x = step < 0 ? -1 : 0;
            }
            else if (x >= length)
            {
                x = step < 0 ? length - 1 : length;
            }
            return x;
        }

        long s = Adjust(start, true), e = Adjust(stop, false);
        if (step > 0)
        {
            for (long i = s; i < e; i += step) yield return (int)i;
        }
        else
        {
            for (long i = s; i > e; i += step) yield return (int)i;
        }
    }
}

/// <summary>Python's printf-style <c>"%s" % args</c> formatting (also the <c>format</c> filter).</summary>
internal static class PercentFormat
{
    public static string Format(string fmt, Value args)
    {
        IReadOnlyList<Value> positional = args is ListValue { IsTuple: true } t ? t.Items : [args];
        var mapping = args as DictValue;
        return Format(fmt, positional, mapping);
    }

    public static string Format(string fmt, IReadOnlyList<Value> positional, DictValue? mapping)
    {
        var sb = new StringBuilder();
        int argIndex = 0;
        int i = 0;
        while (i < fmt.Length)
        {
            char c = fmt[i];
            if (c != '%') { sb.Append(c); i++; continue; }
            i++;
            if (i >= fmt.Length) throw new TemplateException("incomplete format");
            Value? arg = null;
            if (fmt[i] == '(')
            {
                int close = fmt.IndexOf(')', i);
                if (close < 0) throw new TemplateException("incomplete format key");
                string key = fmt[(i + 1)..close];
                if (mapping is null) throw new TemplateException("format requires a mapping");
                if (!mapping.TryGet(key, out var mv)) throw new TemplateException($"KeyError: '{key}'");
                arg = mv;
                i = close + 1;
            }

            string flags = "";
            while (i < fmt.Length && "-+ 0#".Contains(fmt[i])) flags += fmt[i++];
            int width = 0;
            while (i < fmt.Length && char.IsAsciiDigit(fmt[i])) width = width * 10 + (fmt[i++] - '0');
            int precision = -1;
            if (i < fmt.Length && fmt[i] == '.')
            {
                i++;
                precision = 0;
                while (i < fmt.Length && char.IsAsciiDigit(fmt[i])) precision = precision * 10 + (fmt[i++] - '0');
            }
            if (i >= fmt.Length) throw new TemplateException("incomplete format");
            char conv = fmt[i++];
            if (conv == '%') { sb.Append('%'); continue; }
            if (arg is null)
            {
                if (argIndex >= positional.Count) throw new TemplateException("not enough arguments for format string");
                arg = positional[argIndex++];
            }

            string body = conv switch
            {
                's' => precision >= 0 && arg.ToStr().Length > precision ? arg.ToStr()[..precision] : arg.ToStr(),
                'r' or 'a' => arg.Repr(),
                'd' or 'i' or 'u' => IntText(arg, flags),
                'f' or 'F' => NumText(Operators.ToDouble(arg), "F" + (precision < 0 ? 6 : precision), flags),
                'e' or 'E' => NumText(Operators.ToDouble(arg), (conv == 'e' ? "e" : "E") + (precision < 0 ? 6 : precision), flags),
                'g' or 'G' => NumText(Operators.ToDouble(arg), "G" + (precision < 0 ? 6 : Math.Max(precision, 1)), flags),
                'x' => Convert.ToString(AsLong(arg), 16),
                'X' => Convert.ToString(AsLong(arg), 16).ToUpperInvariant(),
                'o' => Convert.ToString(AsLong(arg), 8),
                'c' => arg is StringValue cs ? cs.Value : char.ConvertFromUtf32((int)AsLong(arg)),
                _ => throw new TemplateException($"unsupported format character '{conv}'"),
            };

            if (body.Length < width)
            {
                if (flags.Contains('-')) body = body.PadRight(width);
                else if (flags.Contains('0') && conv is not ('s' or 'r' or 'c'))
                {
                    bool neg = body.StartsWith('-') || body.StartsWith('+');
                    body = neg ? body[0] + body[1..].PadLeft(width - 1, '0') : body.PadLeft(width, '0');
                }
                else body = body.PadLeft(width);
            }
            sb.Append(body);
        }
        if (mapping is null && argIndex < positional.Count && !(positional.Count == 1 && positional[0] is DictValue))
            throw new TemplateException("not all arguments converted during string formatting");
        return sb.ToString();
    }

    private static long AsLong(Value v)
    {
        if (Operators.TryInt(v, out long l)) return l;
        if (v is FloatValue f) return (long)Math.Truncate(f.Value);
        throw new TemplateException($"%d format: a real number is required, not {v.TypeName}");
    }

    private static string IntText(Value v, string flags)
    {
        long l = AsLong(v);
        string s = l.ToString(CultureInfo.InvariantCulture);
        if (l >= 0 && flags.Contains('+')) s = "+" + s;
        else if (l >= 0 && flags.Contains(' ')) s = " " + s;
        return s;
    }

    private static string NumText(double d, string format, string flags)
    {
        string s = d.ToString(format, CultureInfo.InvariantCulture);
        if (format[0] is 'e' or 'E')
        {
            // .NET writes e+006; Python writes e+06.
            int idx = s.IndexOfAny(['e', 'E']);
            string mant = s[..(idx + 2)];
            string exp = s[(idx + 2)..].TrimStart('0');
            s = mant + exp.PadLeft(2, '0');
        }
        if (d >= 0 && flags.Contains('+')) s = "+" + s;
        else if (d >= 0 && flags.Contains(' ')) s = " " + s;
        return s;
    }
}
