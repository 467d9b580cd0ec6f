using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.ServiceDefaults;
using DeepSeekMesh.Text;
using Orleans.Runtime;

namespace DeepSeekMesh.Gateway;

/// <summary>
/// Runs choices of a <see cref="GenerationJob"/> on the cluster: one completion grain per choice
/// (key: request id + choice index), token ids in, text deltas out through a <see cref="TextStream"/>
/// (stop strings cut the text and end the grain call). Cancelling the token (the client left)
/// cancels the grain call, which ends the sequence and frees its KV cache.
/// </summary>
public sealed class Generation(IGrainFactory grains, GatewayMetrics metrics, GatewayOptions options, GenAiServerMetrics? genAi = null)
{
    readonly GenAiServerMetrics _genAi = genAi ?? GenAiServerMetrics.Default;

    /// <summary>
    /// Starts every choice and waits for each one's first event, so that a refused request (overloaded,
    /// too large, invalid) surfaces as an <see cref="ApiException"/> before any response is written.
    /// </summary>
    public async Task<IAsyncEnumerator<ChoiceEvent>[]> StartAsync(GenerationJob job, string requestId, CancellationToken cancellationToken)
    {
        var enumerators = new IAsyncEnumerator<ChoiceEvent>[job.Choices];
        for (int p = 0, index = 0; p < job.Prompts.Count; p++)
            for (int c = 0; c < job.N; c++, index++)
                enumerators[index] = Run(job, job.Prompts[p].Ids, index, c, $"{requestId}-{index}", cancellationToken).GetAsyncEnumerator(cancellationToken);
        var first = enumerators.Select(e => e.MoveNextAsync().AsTask()).ToArray();
        try
        {
            await Task.WhenAll(first);
        }
        catch
        {
            foreach (var e in enumerators) await DisposeQuietly(e);
            var error = first.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault();
            if (error is not null && Map(error, options) is { } api) throw api;
            throw;
        }
        return enumerators;
    }

    static async ValueTask DisposeQuietly(IAsyncEnumerator<ChoiceEvent> e)
    {
        try { await e.DisposeAsync(); } catch { /* already failed or cancelled */ }
    }

    /// <summary>Every event of started choices (each already positioned on its first event), interleaved as they come.</summary>
    public static async IAsyncEnumerable<ChoiceEvent> Merge(IAsyncEnumerator<ChoiceEvent>[] started, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (started.Length == 1)
        {
            var e = started[0];
            try
            {
                do yield return e.Current;
                while (await e.MoveNextAsync());
            }
            finally { await e.DisposeAsync(); }
            yield break;
        }
        var channel = Channel.CreateUnbounded<ChoiceEvent>(new UnboundedChannelOptions { SingleReader = true });
        var pumps = started.Select(async e =>
        {
            try
            {
                do await channel.Writer.WriteAsync(e.Current, cancellationToken);
                while (await e.MoveNextAsync());
            }
            finally { await e.DisposeAsync(); }
        }).ToArray();
        _ = Task.WhenAll(pumps).ContinueWith(t => channel.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken))
            yield return item;
    }

    async IAsyncEnumerable<ChoiceEvent> Run(GenerationJob job, int[] prompt, int index, int choice, string grainKey, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var grain = grains.GetGrain<ICompletionGrain>(grainKey);
        if (FrontendAffinity.KeyOf(prompt) is { } prefix) RequestContext.Set(FrontendAffinity.RequestContextKey, prefix); // session affinity: the frontend that holds this prefix
                var text = job.Model.Codec.NewStream(job.Stop, job.SkipSpecialTokens);
        var tokenizer = job.Model.Codec.Tokenizer;
        int count = 0, cached = 0;
        string? finish = null;
        var measured = _genAi.Begin(job.Model.Id, prompt.Length); // GenAI semconv: TTFT, time per output token, duration, usage
        try
        {
            await using var tokens = grain.Generate(prompt, job.SamplingFor(choice), cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (await NextToken(tokens, measured))
            {
                long start = Stopwatch.GetTimestamp();
                var token = tokens.Current;
                if (count++ == 0) cached = token.CachedPromptTokens; // the first token reports the prefix cache's reuse
                measured.Token();
                var delta = token.IsStopToken ? "" : text.Push(token.TokenId);
                if (text.Stopped) finish = "stop";
                else if (token.FinishReason != FinishReason.None)
                {
                    finish = token.FinishReason == FinishReason.Stop ? "stop" : "length";
                    delta += text.Finish();
                }
                TokenLogprobInfo? logprob = job.Logprobs is null ? null : Describe(tokenizer, token);
                metrics.AddTokenProcessing(Stopwatch.GetTimestamp() - start);
                if (finish is not null) measured.Complete();
                yield return new ChoiceEvent(index, delta, logprob, finish, count, cached);
                if (finish is not null) yield break; // disposing the grain enumerator ends the sequence (a stop string cut it)
            }
            measured.Complete();
            // The grain ended without a finish reason (it should not): close the text.
            yield return new ChoiceEvent(index, text.Finish(), null, "stop", count, cached);
        }
        finally
        {
            measured.Fail(null); // no-op after Complete/Fail: the consumer left (cancelled) mid-stream
        }
    }

    /// <summary>The grain stream's next token; a failure is recorded (error.type) before it propagates.</summary>
    static async ValueTask<bool> NextToken(IAsyncEnumerator<SampledToken> tokens, GenAiRequest measured)
    {
        try
        {
            return await tokens.MoveNextAsync();
        }
        catch (Exception e)
        {
            measured.Fail(e);
            throw;
        }
    }

    static TokenLogprobInfo Describe(Tokenizers.Tokenizer tokenizer, SampledToken token)
    {
        (string, byte[]) TextOf(int id)
        {
            var bytes = tokenizer.GetTokenBytes(id).ToArray();
            return (System.Text.Encoding.UTF8.GetString(bytes), bytes);
        }
        var (t, b) = TextOf(token.TokenId);
        var top = token.TopLogprobs.Select(a => { var (s, bs) = TextOf(a.TokenId); return (s, bs, a.Logprob); }).ToArray();
        return new TokenLogprobInfo(token.TokenId, t, b, token.Logprob, top);
    }

    /// <summary>Cluster failures as API errors: refusals by their reason, an unreachable cluster as 503.</summary>
    public static ApiException? Map(Exception e, GatewayOptions options) => e switch
    {
        ApiException api => api,
        CompletionRejectedException r => r.Reason switch
        {
            CompletionRejection.Overloaded => new ApiException(429, $"The server is overloaded: {r.Message}. Please retry after a short wait.", "server_overloaded", null, "server_overloaded")
            {
                RetryAfterSeconds = options.OverloadedRetryAfterSeconds,
            },
            CompletionRejection.TooLarge => ApiException.BadRequest(r.Message, r.Parameter ?? "max_tokens", "context_length_exceeded"),
            CompletionRejection.InvalidRequest => ApiException.BadRequest(r.Message, r.Parameter, "invalid_value"),
            _ => new ApiException(503, $"No frontend could serve the request: {r.Message}", "server_error", null, "service_unavailable") { RetryAfterSeconds = 1 },
        },
        OperationCanceledException => null,
        SiloUnavailableException or OrleansMessageRejectionException or TimeoutException or OrleansException =>
            new ApiException(503, $"The cluster is unavailable: {e.Message}", "server_error", null, "service_unavailable") { RetryAfterSeconds = 1 },
        _ => null,
    };
}
