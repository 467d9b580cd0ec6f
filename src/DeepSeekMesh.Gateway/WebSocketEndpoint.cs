using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using DeepSeekMesh.Gateway.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace DeepSeekMesh.Gateway;

/// <summary>
/// GET /ws: streaming chat over a WebSocket. Each text message in is a chat completion request body
/// (as for POST /v1/chat/completions; <c>stream</c> is implied). Out: one
/// <c>chat.completion.chunk</c> message per delta (the first of each choice carries the role), then one
/// <c>chat.completion.done</c> message with every choice's finish_reason and the usage. An error is a
/// <c>{"error":{…}}</c> message; the socket stays open for the next request. Closing the socket
/// cancels the generation in flight.
/// </summary>
public sealed class WebSocketEndpoint(ServedModel model, Generation generation, GatewayMetrics metrics, TokenRateLimits tokenLimits, IOptions<GatewayOptions> options)
{
    readonly GatewayOptions _options = options.Value;

    public async Task Handle(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
            throw ApiException.BadRequest("GET /ws expects a WebSocket upgrade request.", code: "websocket_required");
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var aborted = context.RequestAborted;
        var next = ReceiveAsync(socket, aborted);
        while (true)
        {
            var message = await next;
            if (message is null) break;
            if (message.Length > _options.MaxRequestBodyBytes)
            {
                await CloseQuietly(socket, WebSocketCloseStatus.MessageTooBig, $"messages are limited to {_options.MaxRequestBodyBytes} bytes");
                return;
            }
            using var generationCancel = CancellationTokenSource.CreateLinkedTokenSource(aborted);
            // Watch the socket while generating: a close (or a broken connection) cancels the generation.
            next = ReceiveAsync(socket, aborted);
            _ = next.ContinueWith(t => { if (t.Result is null) generationCancel.Cancel(); }, TaskScheduler.Default);
            try
            {
                await RunAsync(context, socket, message, generationCancel.Token);
            }
            catch (Exception e) when (!generationCancel.IsCancellationRequested && (e as ApiException ?? Generation.Map(e, _options)) is { } api)
            {
                await SendAsync(socket, api.WriteJson, aborted);
            }
            catch (Exception) when (generationCancel.IsCancellationRequested)
            {
                break;
            }
        }
        await CloseQuietly(socket, WebSocketCloseStatus.NormalClosure, "bye");
    }

    async Task RunAsync(HttpContext context, WebSocket socket, byte[] message, CancellationToken ct)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(message, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"We could not parse the JSON of your message: {e.Message}", code: "invalid_json");
        }
        using var _ = doc;
        var job = RequestReader.Read(doc.RootElement, ProtocolJson.Default.ChatCompletionRequest).Validate(model, _options);
        tokenLimits.Charge(context, job);
        metrics.AddRequest();
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = CompletionEndpoints.Now();
        var started = await generation.StartAsync(job, id, ct);
        var roleSent = new bool[job.Choices];
        var finish = new string[job.Choices];
        int completionTokens = 0;
        await foreach (var e in Generation.Merge(started, ct))
        {
            bool role = !roleSent[e.Index];
            roleSent[e.Index] = true;
            if (role || e.Text.Length > 0 || e.Logprob is not null)
                await SendAsync(socket, w => Shapes.ChatChunk(w, id, created, model.Id, e.Index, role, e.Text, e.Logprob, null, false), ct);
            if (e.FinishReason is not null)
            {
                finish[e.Index] = e.FinishReason;
                completionTokens += e.CompletionTokens;
            }
        }
        await SendAsync(socket, w =>
        {
            w.WriteStartObject();
            w.WriteString("id", id);
            w.WriteString("object", "chat.completion.done");
            w.WriteNumber("created", created);
            w.WriteString("model", model.Id);
            w.WriteStartArray("choices");
            for (int i = 0; i < finish.Length; i++)
            {
                w.WriteStartObject();
                w.WriteNumber("index", i);
                w.WriteString("finish_reason", finish[i] ?? "stop");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            Shapes.Usage(w, job.PromptTokens, completionTokens);
            w.WriteEndObject();
        }, ct);
    }

    static async Task SendAsync(WebSocket socket, Action<Utf8JsonWriter> write, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        Json.Write(buffer, write);
        await socket.SendAsync(buffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, ct);
    }

    /// <summary>The next whole text message, or null when the peer closed or the connection broke. Oversized messages are returned truncated past the limit (the caller rejects them).</summary>
    async Task<byte[]?> ReceiveAsync(WebSocket socket, CancellationToken ct)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        try
        {
            while (true)
            {
                var memory = buffer.GetMemory(4096);
                var result = await socket.ReceiveAsync(memory, ct);
                if (result.MessageType == WebSocketMessageType.Close) return null;
                buffer.Advance(result.Count);
                if (buffer.WrittenCount > _options.MaxRequestBodyBytes) return buffer.WrittenSpan.ToArray();
                if (result.EndOfMessage) return buffer.WrittenSpan.ToArray();
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            return null;
        }
    }

    static async Task CloseQuietly(WebSocket socket, WebSocketCloseStatus status, string reason)
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
                await socket.CloseOutputAsync(status, reason, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(2));
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException or OperationCanceledException or ObjectDisposedException) { }
    }
}
