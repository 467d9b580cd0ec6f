namespace DeepSeekMesh.ChatTemplates.Values;

/// <summary>
/// A template value with Python/Jinja semantics. Values are immutable except
/// <see cref="NamespaceValue"/> (Jinja's <c>namespace()</c>), which templates may mutate via <c>set ns.x = ...</c>.
/// </summary>
internal abstract class Value
{
    /// <summary>The Python type name, used in error messages ("str", "int", "list", "dict", "NoneType", ...).</summary>
    public abstract string TypeName { get; }

    /// <summary>Python truthiness.</summary>
    public virtual bool IsTruthy => true;

    public virtual bool IsUndefined => false;

    public virtual bool IsNone => false;

    /// <summary>Python <c>str(value)</c>; what <c>{{ value }}</c> prints.</summary>
    public abstract string ToStr();

    /// <summary>Python <c>repr(value)</c>; used inside list and dict string forms.</summary>
    public virtual string Repr() => ToStr();

    public override string ToString() => ToStr();
}

/// <summary>Jinja's default Undefined: prints as "", is falsy, iterates as empty, fails on arithmetic.</summary>
internal sealed class UndefinedValue : Value
{
    public static readonly UndefinedValue Instance = new(null);

    public UndefinedValue(string? hint) => Hint = hint;

    /// <summary>Why the value is undefined, e.g. "'foo' is undefined"; used in error messages.</summary>
    public string? Hint { get; }

    public override string TypeName => "Undefined";

    public override bool IsTruthy => false;

    public override bool IsUndefined => true;

    public override string ToStr() => "";

    public override string Repr() => "Undefined";

    public TemplateException Fail() => new(Hint ?? "Undefined value used in an operation that requires a defined value");

    public override bool Equals(object? obj) => obj is UndefinedValue;

    public override int GetHashCode() => 0x5A5A;
}

internal sealed class NoneValue : Value
{
    public static readonly NoneValue Instance = new();

    private NoneValue() { }

    public override string TypeName => "NoneType";

    public override bool IsTruthy => false;

    public override bool IsNone => true;

    public override string ToStr() => "None";

    public override bool Equals(object? obj) => obj is NoneValue;

    public override int GetHashCode() => 0x4E4E;
}
