using System.Diagnostics;
using System.Text.Json;
using DeepSeekMesh.Gateway.Protocol;
using DeepSeekMesh.Gateway.Serving;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace DeepSeekMesh.Gateway;

/// <summary>POST /v1/chat/completions and POST /v1/completions: JSON, or SSE with <c>stream: true</c>.</summary>
public sealed class CompletionEndpoints(ServedModel model, ServingCompletion serving, GatewayMetrics metrics, IOptions<GatewayOptions> options)
{
    readonly GatewayOptions _options = options.Value;

    /// <summary>
    /// The request body as JSON: 415 when it is declared as something else, 413 over the size limit, 400 when it is not
    /// UTF-8 (RFC 8259) or not JSON. A body without a Content-Type is read as JSON.
    /// </summary>
    public static async Task<JsonDocument> ReadJsonAsync(HttpContext context, long limit)
    {
        if (context.Request.ContentType is { } type && !IsJson(type))
            throw new ApiException(415, $"The request body is declared as '{type}'; send JSON with the header 'Content-Type: application/json'.",
                ApiException.InvalidRequest, null, "unsupported_media_type");
        if (context.Request.ContentLength > limit)
            throw new ApiException(413, $"The request body is {context.Request.ContentLength} bytes; the limit is {limit} bytes.", ApiException.InvalidRequest, null, "request_too_large");
        try
        {
            using var body = new MemoryStream();
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                if (body.Length + read > limit) throw new BadHttpRequestException("body too large", StatusCodes.Status413PayloadTooLarge);
                body.Write(buffer, 0, read);
            }
            return ParseJson(new ReadOnlyMemory<byte>(body.GetBuffer(), 0, (int)body.Length));
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new ApiException(413, $"The request body is larger than the limit of {limit} bytes.", ApiException.InvalidRequest, null, "request_too_large");
        }
    }

    /// <summary>application/json, text/json or a +json type, in UTF-8 (the only charset JSON has, RFC 8259) when a charset is named.</summary>
    static bool IsJson(string contentType)
    {
        if (!Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)) return false;
        var name = media.MediaType.Value ?? "";
        bool json = name.Equals("application/json", StringComparison.OrdinalIgnoreCase) || name.Equals("text/json", StringComparison.OrdinalIgnoreCase)
            || (name.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && name.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        var charset = media.Charset.Value;
        return json && (string.IsNullOrEmpty(charset) || charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Parses a JSON message after checking that every byte is UTF-8: JsonDocument checks string
    /// bytes only when a string is read, so invalid UTF-8 would otherwise surface later as a 500 or
    /// make a garbled key silently unknown.
    /// </summary>
    public static JsonDocument ParseJson(ReadOnlyMemory<byte> json)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json.Span))
        {
            throw ApiException.BadRequest($"We could not parse the JSON body of your request: it is not valid UTF-8 (byte {FirstInvalidByte(json.Span)}); JSON text must be UTF-8 (RFC 8259).", code: "invalid_json");
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"We could not parse the JSON body of your request: {e.Message}", code: "invalid_json");
        }
        // Escapes are checked when a string is read, too: an unpaired surrogate (\ud800) would surface later as a 500.
        if (HasSurrogateEscape(json.Span) && UnpairedSurrogate(document.RootElement, "$") is { } path)
        {
            document.Dispose();
            throw ApiException.BadRequest($"We could not parse the JSON body of your request: the string at '{path}' escapes an unpaired UTF-16 surrogate; JSON strings must be Unicode text (RFC 8259).", code: "invalid_json");
        }
        return document;
    }

    /// <summary>Whether the text has a <c>\uD800</c>–<c>\uDFFF</c> escape anywhere (a cheap test before walking the document).</summary>
    static bool HasSurrogateEscape(ReadOnlySpan<byte> json)
    {
        for (int start = 0; start < json.Length;)
        {
            int at = json[start..].IndexOf("\\u"u8);
            if (at < 0) return false;
            int i = start + at;
            if (i + 3 < json.Length && json[i + 2] is (byte)'d' or (byte)'D' && json[i + 3] is (>= (byte)'8' and <= (byte)'9') or (>= (byte)'a' and <= (byte)'f') or (>= (byte)'A' and <= (byte)'F'))
                return true;
            start = i + 2;
        }
        return false;
    }

    /// <summary>The path of the first string (key or value) under <paramref name="e"/> that cannot be read because of an unpaired surrogate.</summary>
    static string? UnpairedSurrogate(JsonElement e, string path)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.String:
                try { e.GetString(); } catch (InvalidOperationException) { return path; }
                return null;
            case JsonValueKind.Array:
                int i = 0;
                foreach (var item in e.EnumerateArray())
                    if (UnpairedSurrogate(item, $"{path}[{i++}]") is { } found) return found;
                return null;
            case JsonValueKind.Object:
                foreach (var p in e.EnumerateObject())
                {
                    string name;
                    try { name = p.Name; } catch (InvalidOperationException) { return $"{path} (a key)"; }
                    if (UnpairedSurrogate(p.Value, $"{path}.{name}") is { } found) return found;
                }
                return null;
            default:
                return null;
        }
    }

    static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        var status = System.Text.Unicode.Utf8.ToUtf16(bytes, new char[bytes.Length], out int consumed, out _, replaceInvalidSequences: false);
        return status == System.Buffers.OperationStatus.Done ? bytes.Length : consumed;
    }

    public async Task Chat(HttpContext context)
    {
        GenerationJob job;
        using (var doc = await ReadJsonAsync(context, _options.MaxRequestBodyBytes))
            job = RequestReader.Read(doc.RootElement, ProtocolJson.Default.ChatCompletionRequest).Validate(model, _options);
        var ct = context.RequestAborted;
        var stream = await serving.StartAsync(context, job, "chatcmpl-", ct);
        var chat = new ServingChat(stream);
        if (!job.Stream)
        {
            await Json.WriteAsync(context, chat.Response(await stream.CollectAsync(ct)), ProtocolJson.Default.ChatCompletionResponse);
            return;
        }
        await StreamAsync(context, stream, e => e switch
        {
            ChoiceDelta d => chat.SseChunks(d),
            UsageReport u when job.IncludeUsage => [chat.UsageChunk(u.Usage)],
            _ => [],
        }, ProtocolJson.Default.ChatCompletionChunk);
    }

    public async Task Completion(HttpContext context)
    {
        GenerationJob job;
        using (var doc = await ReadJsonAsync(context, _options.MaxRequestBodyBytes))
            job = RequestReader.Read(doc.RootElement, ProtocolJson.Default.CompletionRequest).Validate(model, _options);
        var ct = context.RequestAborted;
        var stream = await serving.StartAsync(context, job, "cmpl-", ct);
        var text = new ServingText(stream);
        if (!job.Stream)
        {
            await Json.WriteAsync(context, text.Response(await stream.CollectAsync(ct)), ProtocolJson.Default.CompletionResponse);
            return;
        }
        await StreamAsync(context, stream, e => e switch
        {
            ChoiceDelta d when text.Chunk(d) is { } chunk => [chunk],
            UsageReport u when job.IncludeUsage => [text.UsageChunk(u.Usage)],
            _ => [],
        }, ProtocolJson.Default.CompletionResponse);
    }

    /// <summary>SSE: each event's objects as frames, flushed per event; a failure after the start as an error frame; then [DONE].</summary>
    async Task StreamAsync<T>(HttpContext context, ServingStream stream, Func<ServingEvent, IEnumerable<T>> frames, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var ct = context.RequestAborted;
        var sse = new SseWriter(context.Response);
        await foreach (var e in stream.EventsAsync(ct))
        {
            long t0 = Stopwatch.GetTimestamp();
            if (e is StreamFailed failed) sse.Event(failed.Error.ToResponse(), ProtocolJson.Default.ErrorResponse);
            foreach (var frame in frames(e)) sse.Event(frame, type);
            await sse.FlushAsync(ct);
            if (e is ChoiceDelta) metrics.AddWrite(Stopwatch.GetTimestamp() - t0);
        }
        sse.Done();
        await sse.FlushAsync(ct);
    }
}
