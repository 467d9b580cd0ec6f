using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace DeepSeekMesh.Gateway;

/// <summary>Writes JSON with <see cref="Utf8JsonWriter"/>: protocol records through their source-generated metadata, small views by hand.</summary>
public static class Json
{
    /// <summary>Like OpenAI: non-ASCII text stays as is; only what JSON requires is escaped.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };

    public static byte[] Bytes<T>(T value, JsonTypeInfo<T> type)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        Write(buffer, w => JsonSerializer.Serialize(w, value, type));
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(IBufferWriter<byte> output, Action<Utf8JsonWriter> write)
    {
        using var w = new Utf8JsonWriter(output, WriterOptions);
        write(w);
    }

    /// <summary>A JSON response (status 200 unless given).</summary>
    public static Task WriteAsync<T>(HttpContext context, T value, JsonTypeInfo<T> type, int status = 200) =>
        WriteAsync(context, w => JsonSerializer.Serialize(w, value, type), status);

    /// <summary>A JSON response written by hand (the info views).</summary>
    public static async Task WriteAsync(HttpContext context, Action<Utf8JsonWriter> write, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        Write(context.Response.BodyWriter, write);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }
}
