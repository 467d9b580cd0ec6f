using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekMesh.Model.Config;

/// <summary>Typed reads of config.json fields with errors that name the field.</summary>
internal sealed class ConfigReader(JsonObject root, string source)
{
    ModelConfigException Error(string field, string why) => new($"{source}: {field}: {why}");

    JsonNode? Get(string field) => root.TryGetPropertyValue(field, out var node) ? node : null;

    /// <summary>A JSON number as a double, whether parsed from text or built in memory; null otherwise.</summary>
    static double? Number(JsonNode? node) =>
        node is JsonValue && node.GetValueKind() == JsonValueKind.Number
            ? double.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture)
            : null;

    long? Integer(string field)
    {
        var node = Get(field);
        if (node is null) return null;
        if (Number(node) is { } d)
        {
            if (d == Math.Floor(d) && Math.Abs(d) < int.MaxValue) return (long)d;
        }
        throw Error(field, $"expected an integer, got {node.ToJsonString()}");
    }

    public int PositiveInt(string field)
    {
        var value = Integer(field) ?? throw Error(field, "missing");
        return value > 0 ? (int)value : throw Error(field, $"must be positive, got {value}");
    }

    public int PositiveEvenInt(string field)
    {
        var value = PositiveInt(field);
        return value % 2 == 0 ? value : throw Error(field, $"must be even (rotary pairs), got {value}");
    }

    public int? OptionalNonNegativeInt(string field)
    {
        var value = Integer(field);
        return value is null or >= 0 ? (int?)value : throw Error(field, $"must be non-negative, got {value}");
    }

    public double PositiveDouble(string field, double fallback)
    {
        var node = Get(field);
        if (node is null) return fallback;
        if (Number(node) is { } d && d > 0)
            return d;
        throw Error(field, $"expected a positive number, got {node.ToJsonString()}");
    }

    public bool Bool(string field, bool fallback)
    {
        var node = Get(field);
        if (node is null) return fallback;
        return node.GetValueKind() switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(field, $"expected true or false, got {node.ToJsonString()}"),
        };
    }

    public void RequireArchitecture()
    {
        var modelType = Text("model_type");
        var architectures = Get("architectures") as JsonArray;
        bool ok = modelType is "deepseek_v3" || architectures?.Any(a => a?.ToJsonString() == "\"DeepseekV3ForCausalLM\"") == true;
        if (!ok)
            throw Error("model_type", $"'{modelType ?? "(missing)"}' (architectures {architectures?.ToJsonString() ?? "(missing)"}) is not supported: DeepSeekMesh serves the DeepSeek-V3 architecture (model_type deepseek_v3, DeepseekV3ForCausalLM)");
    }

    /// <summary>The field as text: a string's value, or any other JSON value as written; null when absent.</summary>
    public string? Text(string field)
    {
        var node = Get(field);
        return node is null ? null : node.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : node.ToJsonString();
    }

    /// <summary>Fields with one supported value: absent means that value.</summary>
    public void RequireChoice(string field, string supported)
    {
        var value = Text(field) ?? supported;
        if (value != supported)
            throw Error(field, $"'{value}' is not supported (only '{supported}')");
    }

    public void RequireAbsentOrFalse(string field)
    {
        if (Bool(field, false)) throw Error(field, "true is not supported by the DeepSeek-V3 architecture");
    }

    public RopeScaling? RopeScaling()
    {
        var node = Get("rope_scaling");
        if (node is null) return null;
        if (node is not JsonObject o) throw Error("rope_scaling", "expected an object or null");
        var inner = new ConfigReader(o, $"{source}: rope_scaling");
        var type = inner.Text("type") ?? inner.Text("rope_type");
        if (type != "yarn")
            throw Error("rope_scaling.type", $"'{type}' is not supported (only 'yarn', as DeepSeek-V3 uses)");
        return new RopeScaling(
            Factor: inner.PositiveDouble("factor", 1.0),
            OriginalMaxPositionEmbeddings: inner.PositiveInt("original_max_position_embeddings"),
            BetaFast: inner.PositiveDouble("beta_fast", 32),
            BetaSlow: inner.PositiveDouble("beta_slow", 1),
            Mscale: inner.PositiveDouble("mscale", 1),
            MscaleAllDim: inner.PositiveDouble("mscale_all_dim", 1));
    }

    public int[]? Quantization()
    {
        var node = Get("quantization_config");
        if (node is null) return null;
        if (node is not JsonObject o) throw Error("quantization_config", "expected an object");
        var inner = new ConfigReader(o, $"{source}: quantization_config");
        var method = inner.Text("quant_method");
        if (method != "fp8") throw Error("quantization_config.quant_method", $"'{method}' is not supported (only 'fp8')");
        var fmt = inner.Text("fmt") ?? "e4m3";
        if (fmt != "e4m3") throw Error("quantization_config.fmt", $"'{fmt}' is not supported (only 'e4m3')");
        var block = o["weight_block_size"] as JsonArray;
        if (block is not { Count: 2 } || block.Any(b => Number(b) is not { } d || d is <= 0 or > 1 << 20 || d % 1 != 0))
            throw Error("quantization_config.weight_block_size", $"expected two positive integers, got {block?.ToJsonString() ?? "(missing)"}");
        return [(int)Number(block[0])!.Value, (int)Number(block[1])!.Value];
    }
}
