using DeepSeekMesh.ChatTemplates.Runtime;

namespace DeepSeekMesh.ChatTemplates.Values;

/// <summary>Anything a template can call: globals, macros, bound methods, loop helpers.</summary>
internal abstract class CallableValue : Value
{
    public abstract string Name { get; }

    public override string TypeName => "function";

    public override string ToStr() => $"<function {Name}>";

    public abstract Value Invoke(Arguments args, Evaluator evaluator);
}

/// <summary>A built-in function implemented in C#.</summary>
internal sealed class NativeFunction(string name, Func<Arguments, Evaluator, Value> body) : CallableValue
{
    public override string Name { get; } = name;

    public override Value Invoke(Arguments args, Evaluator evaluator) => body(args, evaluator);
}

/// <summary>A method looked up on a value (<c>"a b".split</c>), called later.</summary>
internal sealed class BoundMethod(Value receiver, string name) : CallableValue
{
    public Value Receiver { get; } = receiver;

    public override string Name { get; } = name;

    public override string ToStr() => $"<built-in method {Name} of {Receiver.TypeName} object>";

    public override Value Invoke(Arguments args, Evaluator evaluator) => Methods.Call(Receiver, Name, args, evaluator);
}
