using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace DeepSeekMesh.Gateway;

/// <summary>Server-sent events on a response: <c>data: {json}\n\n</c> frames and the final <c>data: [DONE]</c>.</summary>
public sealed class SseWriter
{
    static readonly byte[] Prefix = "data: "u8.ToArray();
    static readonly byte[] Suffix = "\n\n"u8.ToArray();
    static readonly byte[] DoneFrame = "data: [DONE]\n\n"u8.ToArray();
    readonly PipeWriter _out;

    public SseWriter(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        _out = response.BodyWriter;
    }

    public void Event<T>(T value, JsonTypeInfo<T> type)
    {
        _out.Write(Prefix);
        Json.Write(_out, w => JsonSerializer.Serialize(w, value, type));
        _out.Write(Suffix);
    }

    public void Done() => _out.Write(DoneFrame);

    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken) => _out.FlushAsync(cancellationToken);
}
