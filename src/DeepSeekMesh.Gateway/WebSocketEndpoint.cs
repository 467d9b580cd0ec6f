using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using DeepSeekMesh.Gateway.Serving;
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
public sealed class WebSocketEndpoint(ServedModel model, ServingCompletion serving, IOptions<GatewayOptions> options)
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
                await SendAsync(socket, api.ToResponse(), ProtocolJson.Default.ErrorResponse, aborted);
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
        var doc = CompletionEndpoints.ParseJson(message);
        GenerationJob job;
        using (doc)
            job = (RequestReader.Read(doc.RootElement, ProtocolJson.Default.ChatCompletionRequest) with { Stream = true }).Validate(model, _options); // delivered as generated
        var stream = await serving.StartAsync(context, job, "chatcmpl-", ct);
        var chat = new ServingChat(stream);
        var finish = new string?[job.Choices];
        await foreach (var e in stream.EventsAsync(ct))
        {
            switch (e)
            {
                case ChoiceDelta d:
                    if (chat.WebSocketChunk(d) is { } chunk) await SendAsync(socket, chunk, ProtocolJson.Default.ChatCompletionChunk, ct);
                    if (d.Choice.FinishReason is not null) finish[d.Choice.Index] = d.Choice.FinishReason;
                    break;
                case UsageReport u:
                    await SendAsync(socket, chat.Done(finish, u.Usage), ProtocolJson.Default.ChatCompletionDone, ct);
                    break;
                case StreamFailed f:
                    throw f.Error; // answered as an error message; the socket stays open
            }
        }
    }

    static async Task SendAsync<T>(WebSocket socket, T value, JsonTypeInfo<T> type, CancellationToken ct) =>
        await socket.SendAsync(Json.Bytes(value, type), WebSocketMessageType.Text, endOfMessage: true, ct);

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
