using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using DeepSeekMesh.Sampling.Structured;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>
/// OpenAI's <c>response_format</c>: <c>{"type":"text"}</c>, <c>{"type":"json_object"}</c> (any JSON object) or
/// <c>{"type":"json_schema","json_schema":{"name","schema","strict","description"}}</c>. The JSON types become a
/// schema the engine decodes under (<see cref="Sampling.SamplingParams.JsonSchema"/>); what a schema may use is
/// checked when the sampling parameters are validated.
/// </summary>
public sealed record ResponseFormat
{
    [JsonPropertyName("type")] public string? Type { get; init; }
    [JsonPropertyName("json_schema")] public JsonElement? JsonSchema { get; init; }

    /// <summary>The schema the output must follow (compact JSON text), or null for free text.</summary>
    public string? Schema() => Type switch
    {
        null or "text" => null,
        "json_object" => ByteAutomaton.JsonObjectSchema,
        "json_schema" => Read(JsonSchema),
        var other => throw ApiException.BadRequest($"Invalid value for 'response_format.type': '{other}'. Supported values are: 'text', 'json_object' and 'json_schema'.",
            "response_format", "invalid_value"),
    };

    static string Read(JsonElement? value)
    {
        if (value is not { ValueKind: not JsonValueKind.Null } spec)
            throw ApiException.BadRequest("Missing required parameter: 'response_format.json_schema'.", "response_format", "missing_required_parameter");
        if (spec.ValueKind != JsonValueKind.Object) throw ApiException.InvalidType("response_format.json_schema", "an object", spec);
        if (!spec.TryGetProperty("name", out var name))
            throw ApiException.BadRequest("Missing required parameter: 'response_format.json_schema.name'.", "response_format", "missing_required_parameter");
        if (name.ValueKind != JsonValueKind.String) throw ApiException.InvalidType("response_format.json_schema.name", "a string", name);
        if (spec.TryGetProperty("strict", out var strict) && strict.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
            throw ApiException.InvalidType("response_format.json_schema.strict", "a boolean", strict);
        // strict or not, the output follows the schema (optional properties may be left out, others are never written).
        if (!spec.TryGetProperty("schema", out var schema) || schema.ValueKind == JsonValueKind.Null) return "{}";
        if (schema.ValueKind != JsonValueKind.Object) throw ApiException.InvalidType("response_format.json_schema.schema", "an object", schema);
        var buffer = new ArrayBufferWriter<byte>(256);
        Json.Write(buffer, schema.WriteTo);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
