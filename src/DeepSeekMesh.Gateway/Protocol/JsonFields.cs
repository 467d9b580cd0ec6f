using System.Globalization;
using System.Text.Json;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>Request fields whose JSON shape varies, read from their <see cref="JsonElement"/>; a wrong shape is a 400 naming the parameter.</summary>
public static class JsonFields
{
    /// <summary>An integer parameter; an integral number outside Int32 is "out of range", anything else "invalid type".</summary>
    public static int Int(JsonElement v, string name)
    {
        if (v.ValueKind != JsonValueKind.Number) throw ApiException.InvalidType(name, "an integer", v);
        if (v.TryGetInt32(out var i)) return i;
        if (v.TryGetDouble(out var d) && d == Math.Floor(d))
            throw ApiException.BadRequest($"'{name}' is out of range: {v.GetRawText()}.", name, "invalid_value");
        throw ApiException.InvalidType(name, "an integer", v);
    }

    /// <summary>OpenAI's <c>stop</c>: a string or a list of strings (empty strings ignored).</summary>
    public static IReadOnlyList<string> Stop(JsonElement? value, int max)
    {
        if (value is not { } v) return [];
        List<string> stops = [];
        if (v.ValueKind == JsonValueKind.String) stops.Add(v.GetString()!);
        else if (v.ValueKind == JsonValueKind.Array)
        {
            foreach (var s in v.EnumerateArray())
                stops.Add(s.ValueKind == JsonValueKind.String ? s.GetString()! : throw ApiException.InvalidType("stop", "a string or an array of strings", s));
        }
        else throw ApiException.InvalidType("stop", "a string or an array of strings", v);
        stops.RemoveAll(s => s.Length == 0);
        if (stops.Count > max) throw ApiException.BadRequest($"'stop' has {stops.Count} sequences; at most {max} are allowed.", "stop", "invalid_value");
        return stops;
    }

    /// <summary>OpenAI's <c>logit_bias</c>: an object from token id (as a string) to a bias in [-100, 100].</summary>
    public static Dictionary<int, float>? LogitBias(JsonElement? value)
    {
        if (value is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Object) throw ApiException.InvalidType("logit_bias", "an object", v);
        var bias = new Dictionary<int, float>();
        foreach (var p in v.EnumerateObject())
        {
            if (!int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                throw ApiException.BadRequest($"Invalid key in 'logit_bias': '{p.Name}' is not a token id.", "logit_bias", "invalid_value");
            if (p.Value.ValueKind != JsonValueKind.Number) throw ApiException.InvalidType($"logit_bias.{p.Name}", "a number", p.Value);
            bias[id] = (float)p.Value.GetDouble();
        }
        return bias.Count == 0 ? null : bias;
    }

    /// <summary>A list of integers, e.g. vLLM's <c>stop_token_ids</c>.</summary>
    public static int[] IntList(JsonElement? value, string name)
    {
        if (value is not { } v) return [];
        if (v.ValueKind != JsonValueKind.Array) throw ApiException.InvalidType(name, "an array of integers", v);
        return v.EnumerateArray().Select(e => Int(e, name)).ToArray();
    }
}
