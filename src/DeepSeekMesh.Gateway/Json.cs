using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace DeepSeekMesh.Gateway;

/// <summary>Small helpers to write JSON with <see cref="Utf8JsonWriter"/> (no reflection, no intermediate objects).</summary>
public static class Json
{
    /// <summary>Like OpenAI: non-ASCII text stays as is; only what JSON requires is escaped.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public static byte[] Bytes(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, WriterOptions)) write(w);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(IBufferWriter<byte> output, Action<Utf8JsonWriter> write)
    {
        using var w = new Utf8JsonWriter(output, WriterOptions);
        write(w);
    }

    /// <summary>A logprob as a JSON number: -inf (a token the model gives no mass) as -9999.0, as vLLM does; NaN as null.</summary>
    public static void WriteLogprob(this Utf8JsonWriter w, string name, float value)
    {
        if (float.IsNaN(value)) w.WriteNull(name);
        else w.WriteNumber(name, float.IsNegativeInfinity(value) ? -9999.0 : Math.Round(value, 6));
    }
}
