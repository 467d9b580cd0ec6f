using System.Text.Json;

namespace DeepSeekMesh.Cli;

public static class JsonOutput
{
    /// <summary>Writes floats in their shortest round-trip form.</summary>
    public static void WriteFloats(Utf8JsonWriter json, string name, ReadOnlySpan<float> values)
    {
        json.WriteStartArray(name);
        foreach (var v in values) json.WriteNumberValue(v);
        json.WriteEndArray();
    }
}
