using System.Globalization;

namespace DeepSeekMesh.ChatTemplates.Values;

internal sealed class BoolValue : Value
{
    public static readonly BoolValue True = new(true);
    public static readonly BoolValue False = new(false);

    private BoolValue(bool value) => Value = value;

    public bool Value { get; }

    public static BoolValue Of(bool b) => b ? True : False;

    public override string TypeName => "bool";

    public override bool IsTruthy => Value;

    public override string ToStr() => Value ? "True" : "False";

    // Python: True == 1 == 1.0 and they hash alike.
    public override bool Equals(object? obj) => obj switch
    {
        BoolValue b => b.Value == Value,
        IntValue i => i.Value == (Value ? 1 : 0),
        FloatValue f => f.Value == (Value ? 1 : 0),
        _ => false,
    };

    public override int GetHashCode() => (Value ? 1.0 : 0.0).GetHashCode();
}

internal sealed class IntValue : Value
{
    private static readonly IntValue[] Small = Enumerable.Range(-8, 265).Select(i => new IntValue(i)).ToArray();

    public IntValue(long value) => Value = value;

    public long Value { get; }

    public static IntValue Of(long v) => v >= -8 && v <= 256 ? Small[v + 8] : new IntValue(v);

    public override string TypeName => "int";

    public override bool IsTruthy => Value != 0;

    public override string ToStr() => Value.ToString(CultureInfo.InvariantCulture);

    public override bool Equals(object? obj) => obj switch
    {
        IntValue i => i.Value == Value,
        FloatValue f => f.Value == Value,
        BoolValue b => (b.Value ? 1 : 0) == Value,
        _ => false,
    };

    public override int GetHashCode() => ((double)Value).GetHashCode();
}

internal sealed class FloatValue : Value
{
    public FloatValue(double value) => Value = value;

    public double Value { get; }

    public override string TypeName => "float";

    public override bool IsTruthy => Value != 0;

    public override string ToStr() => PyFormat.FloatRepr(Value);

    public override bool Equals(object? obj) => obj switch
    {
        FloatValue f => f.Value == Value,
        IntValue i => i.Value == Value,
        BoolValue b => (b.Value ? 1 : 0) == Value,
        _ => false,
    };

    public override int GetHashCode() => Value.GetHashCode();
}

internal sealed class StringValue : Value
{
    public static readonly StringValue Empty = new("");

    public StringValue(string value) => Value = value;

    public string Value { get; }

    public static StringValue Of(string s) => s.Length == 0 ? Empty : new StringValue(s);

    public override string TypeName => "str";

    public override bool IsTruthy => Value.Length > 0;

    public override string ToStr() => Value;

    public override string Repr() => PyFormat.StringRepr(Value);

    public override bool Equals(object? obj) => obj is StringValue s && string.Equals(s.Value, Value, StringComparison.Ordinal);

    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);
}
