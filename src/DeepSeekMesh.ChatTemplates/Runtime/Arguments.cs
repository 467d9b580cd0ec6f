using DeepSeekMesh.ChatTemplates.Values;

namespace DeepSeekMesh.ChatTemplates.Runtime;

/// <summary>Evaluated call arguments (positional and keyword) with Python-style binding helpers.</summary>
internal sealed class Arguments
{
    public static readonly Arguments Empty = new([], []);

    public Arguments(IReadOnlyList<Value> positional, IReadOnlyList<KeyValuePair<string, Value>> named)
    {
        Positional = positional;
        Named = named;
    }

    public IReadOnlyList<Value> Positional { get; }

    public IReadOnlyList<KeyValuePair<string, Value>> Named { get; }

    public static Arguments Of(params Value[] positional) => positional.Length == 0 ? Empty : new Arguments(positional, []);

    /// <summary>The argument at <paramref name="index"/> or named <paramref name="name"/>, or null when absent.</summary>
    public Value? Get(int index, string name)
    {
        if (index >= 0 && index < Positional.Count) return Positional[index];
        foreach (var kv in Named)
        {
            if (kv.Key == name) return kv.Value;
        }
        return null;
    }

    public Value Get(int index, string name, Value fallback) => Get(index, name) ?? fallback;

    public Value Required(int index, string name, string function) =>
        Get(index, name) ?? throw new TemplateException($"{function}() missing required argument '{name}'");

    /// <summary>Rejects surplus positional arguments and unknown keyword arguments.</summary>
    public void Check(string function, params string[] parameterNames)
    {
        if (Positional.Count > parameterNames.Length)
        {
            throw new TemplateException(
                $"{function}() takes at most {parameterNames.Length} argument(s) ({Positional.Count} given)");
        }
        foreach (var kv in Named)
        {
            int idx = Array.IndexOf(parameterNames, kv.Key);
            if (idx < 0) throw new TemplateException($"{function}() got an unexpected keyword argument '{kv.Key}'");
            if (idx < Positional.Count) throw new TemplateException($"{function}() got multiple values for argument '{kv.Key}'");
        }
    }

    public string GetString(int index, string name, string function, string? fallback = null)
    {
        var v = Get(index, name);
        if (v is null)
        {
            return fallback ?? throw new TemplateException($"{function}() missing required argument '{name}'");
        }
        return v is StringValue s ? s.Value : throw new TemplateException($"{function}() argument '{name}' must be str, not {v.TypeName}");
    }

    public long GetInt(int index, string name, string function, long fallback)
    {
        var v = Get(index, name);
        return v switch
        {
            null => fallback,
            IntValue i => i.Value,
            BoolValue b => b.Value ? 1 : 0,
            _ => throw new TemplateException($"{function}() argument '{name}' must be an integer, not {v.TypeName}"),
        };
    }

    public bool GetBool(int index, string name, bool fallback)
    {
        var v = Get(index, name);
        return v is null ? fallback : v.IsTruthy;
    }
}
