using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>
/// A variable frame. The template body, each for loop and each macro call get their own frame;
/// <c>if</c> blocks do not (Jinja scoping). Assignment always writes to the innermost frame.
/// </summary>
internal sealed class Scope
{
    private Dictionary<string, Value>? _vars;

    public Scope(Scope? parent) => Parent = parent;

    public Scope? Parent { get; }

    public bool TryGet(string name, out Value value)
    {
        for (var s = this; s is not null; s = s.Parent)
        {
            if (s._vars is not null && s._vars.TryGetValue(name, out value!)) return true;
        }
        value = UndefinedValue.Instance;
        return false;
    }

    public void Set(string name, Value value) => (_vars ??= new Dictionary<string, Value>(StringComparer.Ordinal))[name] = value;
}
