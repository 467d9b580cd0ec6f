using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

internal delegate bool TestFunction(Value value, Arguments args, Evaluator evaluator);

/// <summary>The built-in tests (<c>value is name(args)</c>), with Jinja's semantics.</summary>
internal static class Tests
{
    private static readonly Dictionary<string, TestFunction> Registry = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, _, _) => !v.IsUndefined,
        ["undefined"] = (v, _, _) => v.IsUndefined,
        ["none"] = (v, _, _) => v.IsNone,
        ["boolean"] = (v, _, _) => v is BoolValue,
        ["true"] = (v, _, _) => v is BoolValue { Value: true },
        ["false"] = (v, _, _) => v is BoolValue { Value: false },
        ["integer"] = (v, _, _) => v is IntValue,
        ["float"] = (v, _, _) => v is FloatValue,
        ["number"] = (v, _, _) => Operators.IsNumber(v),
        ["string"] = (v, _, _) => v is StringValue,
        ["mapping"] = (v, _, _) => v is DictValue,
        ["iterable"] = (v, _, _) => v is StringValue or ListValue or DictValue or UndefinedValue,
        ["sequence"] = (v, _, _) => v is StringValue or ListValue or DictValue,
        ["callable"] = (v, _, _) => v is CallableValue,
        ["sameas"] = SameAs,
        ["escaped"] = (_, _, _) => false,
        ["lower"] = (v, _, _) => v.ToStr() is var s && s.Any(char.IsLetter) && !s.Any(char.IsUpper),
        ["upper"] = (v, _, _) => v.ToStr() is var s && s.Any(char.IsLetter) && !s.Any(char.IsLower),
        ["even"] = (v, _, _) => Modulo(v, 2, "even") == 0,
        ["odd"] = (v, _, _) => Modulo(v, 2, "odd") == 1,
        ["divisibleby"] = (v, a, _) => Modulo(v, a.GetInt(0, "num", "divisibleby", 0), "divisibleby") == 0,
        ["eq"] = (v, a, _) => v.Equals(Other(a)),
        ["equalto"] = (v, a, _) => v.Equals(Other(a)),
        ["=="] = (v, a, _) => v.Equals(Other(a)),
        ["ne"] = (v, a, _) => !v.Equals(Other(a)),
        ["!="] = (v, a, _) => !v.Equals(Other(a)),
        ["lt"] = (v, a, _) => Operators.Order(v, Other(a), "<") < 0,
        ["lessthan"] = (v, a, _) => Operators.Order(v, Other(a), "<") < 0,
        ["<"] = (v, a, _) => Operators.Order(v, Other(a), "<") < 0,
        ["le"] = (v, a, _) => Operators.Order(v, Other(a), "<=") <= 0,
        ["<="] = (v, a, _) => Operators.Order(v, Other(a), "<=") <= 0,
        ["gt"] = (v, a, _) => Operators.Order(v, Other(a), ">") > 0,
        ["greaterthan"] = (v, a, _) => Operators.Order(v, Other(a), ">") > 0,
        [">"] = (v, a, _) => Operators.Order(v, Other(a), ">") > 0,
        ["ge"] = (v, a, _) => Operators.Order(v, Other(a), ">=") >= 0,
        [">="] = (v, a, _) => Operators.Order(v, Other(a), ">=") >= 0,
        ["in"] = (v, a, _) => Operators.Contains(a.Required(0, "seq", "in"), v),
        ["filter"] = (v, _, _) => v is StringValue s && Filters.TryGet(s.Value, out _),
        ["test"] = (v, _, _) => v is StringValue s && Registry!.ContainsKey(s.Value),
    };

    public static bool Apply(string name, Value value, Arguments args, Evaluator ev)
    {
        if (!Registry.TryGetValue(name, out var test)) throw new TemplateException($"No test named '{name}'.");
        return test(value, args, ev);
    }

    private static Value Other(Arguments a) => a.Required(0, "other", "comparison test");

    private static long Modulo(Value v, long divisor, string test)
    {
        if (v is UndefinedValue u) throw u.Fail();
        if (divisor == 0) throw new TemplateException("integer division or modulo by zero");
        if (Operators.TryInt(v, out long x))
        {
            long r = x % divisor;
            if (r != 0 && ((r < 0) != (divisor < 0))) r += divisor;
            return r;
        }
        if (v is FloatValue f)
        {
            double r = f.Value % divisor;
            if (r != 0 && ((r < 0) != (divisor < 0))) r += divisor;
            return r == 0 ? 0 : r == 1 ? 1 : -1;
        }
        throw new TemplateException($"'{test}' test requires a number, got {v.TypeName}");
    }

    private static bool SameAs(Value v, Arguments a, Evaluator _)
    {
        var other = a.Required(0, "other", "sameas");
        return v switch
        {
            NoneValue => other is NoneValue,
            BoolValue b => other is BoolValue ob && ob.Value == b.Value,
            UndefinedValue => false,
            _ => ReferenceEquals(v, other),
        };
    }
}
