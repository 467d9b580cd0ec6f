using System.Text.Json;

namespace DeepSeekMesh.Gateway;

/// <summary>Typed access to a JSON request body; a wrong type is a 400 naming the parameter, as OpenAI reports it.</summary>
public readonly struct RequestBody
{
    public RequestBody(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw ApiException.BadRequest("The request body must be a JSON object.", code: "invalid_body");
        Root = root;
    }

    public JsonElement Root { get; }

    /// <summary>The value of a parameter, or null when it is absent or JSON null.</summary>
    public JsonElement? Get(string name) =>
        Root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public string? String(string name) => Get(name) is { } v
        ? v.ValueKind == JsonValueKind.String ? v.GetString() : throw ApiException.InvalidType(name, "a string", v)
        : null;

    public bool? Bool(string name) => Get(name) is { } v
        ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw ApiException.InvalidType(name, "a boolean", v) }
        : null;

    public double? Number(string name) => Get(name) is { } v
        ? v.ValueKind == JsonValueKind.Number ? v.GetDouble() : throw ApiException.InvalidType(name, "a number", v)
        : null;

    public float? Float(string name) => Number(name) is { } d ? (float)d : null;

    public int? Int(string name) => Get(name) is { } v ? IntOf(v, name) : null;

    public long? Long(string name) => Get(name) is { } v
        ? v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var l) ? l : throw ApiException.InvalidType(name, "an integer", v)
        : null;

    public static int IntOf(JsonElement v, string name)
    {
        if (v.ValueKind != JsonValueKind.Number) throw ApiException.InvalidType(name, "an integer", v);
        if (v.TryGetInt32(out var i)) return i;
        if (v.TryGetDouble(out var d) && d == Math.Floor(d))
            throw ApiException.BadRequest($"'{name}' is out of range: {v.GetRawText()}.", name, "invalid_value");
        throw ApiException.InvalidType(name, "an integer", v);
    }

    /// <summary>OpenAI's <c>stop</c>: a string or a list of strings (empty strings ignored).</summary>
    public IReadOnlyList<string> Stop(int max)
    {
        var v = Get("stop");
        if (v is null) return [];
        List<string> stops = [];
        if (v.Value.ValueKind == JsonValueKind.String) stops.Add(v.Value.GetString()!);
        else if (v.Value.ValueKind == JsonValueKind.Array)
        {
            foreach (var s in v.Value.EnumerateArray())
                stops.Add(s.ValueKind == JsonValueKind.String ? s.GetString()! : throw ApiException.InvalidType("stop", "a string or an array of strings", s));
        }
        else throw ApiException.InvalidType("stop", "a string or an array of strings", v.Value);
        stops.RemoveAll(s => s.Length == 0);
        if (stops.Count > max) throw ApiException.BadRequest($"'stop' has {stops.Count} sequences; at most {max} are allowed.", "stop", "invalid_value");
        return stops;
    }

    /// <summary>OpenAI's <c>logit_bias</c>: an object from token id (as a string) to a bias in [-100, 100].</summary>
    public Dictionary<int, float>? LogitBias()
    {
        if (Get("logit_bias") is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Object) throw ApiException.InvalidType("logit_bias", "an object", v);
        var bias = new Dictionary<int, float>();
        foreach (var p in v.EnumerateObject())
        {
            if (!int.TryParse(p.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
                throw ApiException.BadRequest($"Invalid key in 'logit_bias': '{p.Name}' is not a token id.", "logit_bias", "invalid_value");
            if (p.Value.ValueKind != JsonValueKind.Number) throw ApiException.InvalidType($"logit_bias.{p.Name}", "a number", p.Value);
            bias[id] = (float)p.Value.GetDouble();
        }
        return bias.Count == 0 ? null : bias;
    }

    /// <summary>vLLM's <c>stop_token_ids</c>.</summary>
    public int[] IntList(string name)
    {
        if (Get(name) is not { } v) return [];
        if (v.ValueKind != JsonValueKind.Array) throw ApiException.InvalidType(name, "an array of integers", v);
        return v.EnumerateArray().Select(e => IntOf(e, name)).ToArray();
    }
}
