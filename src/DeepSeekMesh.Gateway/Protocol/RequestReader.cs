using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace DeepSeekMesh.Gateway.Protocol;

/// <summary>
/// A request body (already parsed as JSON) to its protocol record. A field of the wrong JSON type is
/// a 400 naming it, in OpenAI's words: "Invalid type for 'temperature': expected a number, but got a
/// string instead."; an integral number beyond an int is "out of range".
/// </summary>
public static class RequestReader
{
    public static T Read<T>(JsonElement root, JsonTypeInfo<T> type)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw ApiException.BadRequest("The request body must be a JSON object.", code: "invalid_body");
        try
        {
            return root.Deserialize(type) ?? throw ApiException.BadRequest("The request body must be a JSON object.", code: "invalid_body");
        }
        catch (JsonException e) when (e.Path is { } path && Locate(root, type, path) is var (element, name, property))
        {
            throw Invalid(element, name, property);
        }
    }

    static ApiException Invalid(JsonElement value, string name, Type type)
    {
        var clr = Nullable.GetUnderlyingType(type) ?? type;
        if (clr == typeof(int)) JsonFields.Int(value, name); // throws: out of range or invalid type
        string expected = clr == typeof(string) ? "a string"
            : clr == typeof(bool) ? "a boolean"
            : clr == typeof(int) || clr == typeof(long) ? "an integer"
            : clr == typeof(double) || clr == typeof(float) ? "a number"
            : "an object";
        return ApiException.InvalidType(name, expected, value);
    }

    /// <summary>The value at a JsonException's path (<c>$.a.b</c>), its parameter name (the last segment) and the property's type.</summary>
    static (JsonElement, string, Type)? Locate(JsonElement root, JsonTypeInfo type, string path)
    {
        if (!path.StartsWith("$.", StringComparison.Ordinal)) return null;
        var element = root;
        JsonTypeInfo? info = type;
        Type? propertyType = null;
        string name = "";
        foreach (var segment in path[2..].Split('.'))
        {
            var property = info?.Properties.FirstOrDefault(p => p.Name == segment);
            if (property is null || element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(segment, out element)) return null;
            name = segment;
            propertyType = property.PropertyType;
            info = type.Options.TryGetTypeInfo(Nullable.GetUnderlyingType(propertyType) ?? propertyType, out var next) ? next : null;
        }
        return propertyType is null ? null : (element, name, propertyType);
    }
}
