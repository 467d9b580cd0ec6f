using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>The <c>loop</c> variable inside a for loop.</summary>
internal sealed class LoopValue : Value
{
    private readonly IReadOnlyList<Value> _items;
    private Value? _lastChanged;
    private bool _changedCalled;

    public LoopValue(IReadOnlyList<Value> items) => _items = items;

    /// <summary>0-based index of the current iteration.</summary>
    public int Index { get; set; }

    public override string TypeName => "LoopContext";

    public override string ToStr() => $"<LoopContext {Index + 1}/{_items.Count}>";

    public Value GetAttribute(string name) => name switch
    {
        "index" => IntValue.Of(Index + 1),
        "index0" => IntValue.Of(Index),
        "revindex" => IntValue.Of(_items.Count - Index),
        "revindex0" => IntValue.Of(_items.Count - Index - 1),
        "first" => BoolValue.Of(Index == 0),
        "last" => BoolValue.Of(Index == _items.Count - 1),
        "length" => IntValue.Of(_items.Count),
        "depth" => IntValue.Of(1),
        "depth0" => IntValue.Of(0),
        "previtem" => Index > 0 ? _items[Index - 1] : new UndefinedValue("there is no previous item"),
        "nextitem" => Index < _items.Count - 1 ? _items[Index + 1] : new UndefinedValue("there is no next item"),
        "cycle" => new NativeFunction("cycle", (args, _) =>
        {
            if (args.Positional.Count == 0) throw new TemplateException("no items for cycling given");
            return args.Positional[Index % args.Positional.Count];
        }),
        "changed" => new NativeFunction("changed", (args, _) =>
        {
            Value current = new ListValue(args.Positional.ToList(), true);
            bool changed = !_changedCalled || !current.Equals(_lastChanged);
            _changedCalled = true;
            _lastChanged = current;
            return BoolValue.Of(changed);
        }),
        _ => new UndefinedValue($"'LoopContext' object has no attribute '{name}'"),
    };
}
