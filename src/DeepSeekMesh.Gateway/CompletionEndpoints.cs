using System.Diagnostics;
using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using DeepSeekMesh.Gateway.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

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

    public void Event(Action<Utf8JsonWriter> write)
    {
        _out.Write(Prefix);
        Json.Write(_out, write);
        _out.Write(Suffix);
    }

    public void Done() => _out.Write(DoneFrame);

    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken) => _out.FlushAsync(cancellationToken);
}

/// <summary>POST /v1/chat/completions and POST /v1/completions.</summary>
public sealed class CompletionEndpoints(ServedModel model, Generation generation, GatewayMetrics metrics, TokenRateLimits tokenLimits, IOptions<GatewayOptions> options)
{
    readonly GatewayOptions _options = options.Value;

    public static long Now() => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>The request body as JSON: 413 over the size limit, 400 when it is not JSON.</summary>
    public static async Task<JsonDocument> ReadJsonAsync(HttpContext context, long limit)
    {
        if (context.Request.ContentLength > limit)
            throw new ApiException(413, $"The request body is {context.Request.ContentLength} bytes; the limit is {limit} bytes.", ApiException.InvalidRequest, null, "request_too_large");
        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 64 }, context.RequestAborted);
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"We could not parse the JSON body of your request: {e.Message}", code: "invalid_json");
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw new ApiException(413, $"The request body is larger than the limit of {limit} bytes.", ApiException.InvalidRequest, null, "request_too_large");
        }
    }

    public async Task Chat(HttpContext context)
    {
        using var doc = await ReadJsonAsync(context, _options.MaxRequestBodyBytes);
        var job = RequestReader.Read(doc.RootElement, ProtocolJson.Default.ChatCompletionRequest).Validate(model, _options);
        tokenLimits.Charge(context, job);
        metrics.AddRequest();
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = Now();
        var ct = context.RequestAborted;
        var started = await generation.StartAsync(job, id, ct);
        if (!job.Stream)
        {
            var choices = await Collect(job, started, ct);
            await WriteJson(context, w => Shapes.ChatCompletion(w, id, created, model.Id, choices, job.Logprobs is not null, job.PromptTokens));
            return;
        }
        var sse = new SseWriter(context.Response);
        var roleSent = new bool[job.Choices];
        int completionTokens = 0;
        try
        {
            await foreach (var e in Generation.Merge(started, ct))
            {
                long t0 = Stopwatch.GetTimestamp();
                if (!roleSent[e.Index])
                {
                    roleSent[e.Index] = true;
                    sse.Event(w => Shapes.ChatChunk(w, id, created, model.Id, e.Index, role: true, content: "", null, null, job.IncludeUsage));
                }
                if (e.Text.Length > 0 || e.Logprob is not null)
                    sse.Event(w => Shapes.ChatChunk(w, id, created, model.Id, e.Index, role: false, e.Text, e.Logprob, null, job.IncludeUsage));
                if (e.FinishReason is not null)
                {
                    completionTokens += e.CompletionTokens;
                    sse.Event(w => Shapes.ChatChunk(w, id, created, model.Id, e.Index, role: false, content: null, null, e.FinishReason, job.IncludeUsage));
                }
                await sse.FlushAsync(ct);
                metrics.AddWrite(Stopwatch.GetTimestamp() - t0);
            }
            if (job.IncludeUsage)
                sse.Event(w => Shapes.ChatChunk(w, id, created, model.Id, null, false, null, null, null, true, (job.PromptTokens, completionTokens)));
        }
        catch (Exception e) when (!ct.IsCancellationRequested && Generation.Map(e, _options) is { } api)
        {
            sse.Event(api.WriteJson); // the stream has started: the error travels as an event
        }
        sse.Done();
        await sse.FlushAsync(ct);
    }

    public async Task Completion(HttpContext context)
    {
        using var doc = await ReadJsonAsync(context, _options.MaxRequestBodyBytes);
        var job = RequestReader.Read(doc.RootElement, ProtocolJson.Default.CompletionRequest).Validate(model, _options);
        tokenLimits.Charge(context, job);
        metrics.AddRequest();
        var id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = Now();
        var ct = context.RequestAborted;
        var started = await generation.StartAsync(job, id, ct);
        if (!job.Stream)
        {
            var choices = await Collect(job, started, ct);
            await WriteJson(context, w => Shapes.TextCompletion(w, id, created, model.Id, job, choices, i => job.Prompts[i / job.N].Ids));
            return;
        }
        var sse = new SseWriter(context.Response);
        var echoed = new bool[job.Choices];
        var offsets = new int[job.Choices];
        int completionTokens = 0;
        try
        {
            await foreach (var e in Generation.Merge(started, ct))
            {
                long t0 = Stopwatch.GetTimestamp();
                var text = e.Text;
                if (job.Echo && !echoed[e.Index])
                {
                    echoed[e.Index] = true;
                    text = job.Prompts[e.Index / job.N].EchoText + text;
                }
                IReadOnlyList<(string, TokenLogprobInfo?)>? logprobs = e.Logprob is null ? null : Shapes.Generated([e.Logprob]);
                int offset = offsets[e.Index];
                offsets[e.Index] += text.Length;
                if (e.FinishReason is not null) completionTokens += e.CompletionTokens;
                if (text.Length > 0 || logprobs is not null || e.FinishReason is not null)
                    sse.Event(w => Shapes.TextChunk(w, id, created, model.Id, e.Index, text, logprobs, offset, e.FinishReason, job.IncludeUsage));
                await sse.FlushAsync(ct);
                metrics.AddWrite(Stopwatch.GetTimestamp() - t0);
            }
            if (job.IncludeUsage)
                sse.Event(w => Shapes.TextChunk(w, id, created, model.Id, null, "", null, 0, null, true, (job.PromptTokens, completionTokens)));
        }
        catch (Exception e) when (!ct.IsCancellationRequested && Generation.Map(e, _options) is { } api)
        {
            sse.Event(api.WriteJson);
        }
        sse.Done();
        await sse.FlushAsync(ct);
    }

    public static async Task<List<ChoiceResult>> Collect(GenerationJob job, IAsyncEnumerator<ChoiceEvent>[] started, CancellationToken ct)
    {
        var choices = Enumerable.Range(0, job.Choices).Select(i => new ChoiceResult(i)).ToList();
        await foreach (var e in Generation.Merge(started, ct)) choices[e.Index].Add(e);
        return choices;
    }

    public static async Task WriteJson(HttpContext context, Action<Utf8JsonWriter> write, int status = 200)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        Json.Write(context.Response.BodyWriter, write);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }
}
