using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Gateway.Frontends;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.ServiceDefaults;
using DeepSeekMesh.Text;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace DeepSeekMesh.Gateway;

/// <summary>
/// Runs choices of a <see cref="GenerationJob"/> on the cluster: one completion grain per choice
/// (key: request id + choice index), token ids in, text deltas out through a <see cref="TextStream"/>
/// (stop strings cut the text and end the grain call). Cancelling the token (the client left)
/// cancels the grain call, which ends the sequence and frees its KV cache.
/// </summary>
public sealed class Generation(IGrainFactory grains, GatewayMetrics metrics, GatewayOptions options, FrontendWatch watch, ILogger<Generation> logger,
    GenAiServerMetrics? genAi = null)
{
    readonly GenAiServerMetrics _genAi = genAi ?? GenAiServerMetrics.Default;
    readonly FrontendRetryPolicy _retry = new() { MaxAttempts = options.FrontendAttempts };
    readonly ILogger _logger = logger;

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

    static async ValueTask DisposeQuietly<T>(IAsyncEnumerator<T> e)
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

    /// <summary>
    /// One choice: attempts on completion grains until one completes. An attempt whose frontend failed
    /// starts over on a fresh grain (another frontend) as <see cref="FrontendRetryPolicy"/> allows: a
    /// non-streamed choice's events are held until its attempt completes, so it can always start over;
    /// a streamed one only until its first event is out.
    /// </summary>
    async IAsyncEnumerable<ChoiceEvent> Run(GenerationJob job, int[] prompt, int index, int choice, string choiceKey, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var measured = _genAi.Begin(job.Model.Id, prompt.Length); // GenAI semconv: TTFT, time per output token, duration, usage
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                var held = job.Stream ? null : new List<ChoiceEvent>();
                bool delivered = false, retry = false;
                await using (var events = Attempt(job, prompt, index, choice, attempt, FrontendRetryPolicy.GrainKey(choiceKey, attempt), measured, cancellationToken)
                    .GetAsyncEnumerator(cancellationToken))
                {
                    while (true)
                    {
                        bool more;
                        try
                        {
                            more = await events.MoveNextAsync();
                        }
                        catch (Exception e) when (_retry.ShouldRetry(e, attempt, delivered, cancellationToken))
                        {
                            metrics.AddFrontendRetry();
                            _logger.LogWarning("choice {Choice} of {Request} failed on its frontend ({Error}); attempt {Attempt} of {Max} starts on a fresh grain",
                                index, choiceKey, e.Message, attempt + 2, _retry.MaxAttempts);
                            retry = true;
                            break;
                        }
                        catch (Exception e)
                        {
                            measured.Fail(e);
                            throw;
                        }
                        if (!more) break;
                        if (held is not null)
                        {
                            held.Add(events.Current);
                            continue;
                        }
                        delivered = true;
                        yield return events.Current;
                    }
                }
                if (!retry)
                {
                    foreach (var e in held ?? []) yield return e;
                    yield break;
                }
                await Task.Delay(_retry.Delay(attempt), cancellationToken);
            }
        }
        finally
        {
            measured.Fail(null); // no-op after Complete/Fail: the consumer left (cancelled) mid-stream
        }
    }

    /// <summary>Attempt <paramref name="attempt"/> (0: the first) of a choice on the completion grain <paramref name="grainKey"/>; fails fast when its frontend is declared dead.</summary>
    async IAsyncEnumerable<ChoiceEvent> Attempt(GenerationJob job, int[] prompt, int index, int choice, int attempt, string grainKey, GenAiRequest measured,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var grain = grains.GetGrain<ICompletionGrain>(grainKey);
        if (FrontendAffinity.KeyOf(prompt) is { } prefix) RequestContext.Set(FrontendAffinity.RequestContextKey, prefix); // session affinity: the frontend that holds this prefix
        // Where the grain lives (this call activates it), so that its silo's death ends the attempt.
        var silo = await grain.Silo().WaitAsync(SiloAnswerTimeout(attempt), cancellationToken);
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var watched = watch.Watch(silo, lost);
        var text = job.Model.Codec.NewStream(job.Stop, job.SkipSpecialTokens);
        var tokenizer = job.Model.Codec.Tokenizer;
        int count = 0, cached = 0;
        string? finish = null;
        var tokens = grain.Generate(prompt, job.SamplingFor(choice), lost.Token).GetAsyncEnumerator(lost.Token);
        bool failed = true;
        try
        {
            while (await NextToken(tokens, silo, lost.Token, cancellationToken))
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
                if (finish is not null)
                {
                    failed = false;
                    yield break; // disposing the grain enumerator ends the sequence (a stop string cut it)
                }
            }
            failed = false;
            measured.Complete();
            // The grain ended without a finish reason (it should not): close the text.
            yield return new ChoiceEvent(index, text.Finish(), null, "stop", count, cached);
        }
        finally
        {
            // Disposing tells the grain to end the sequence; after a failure its silo may be gone, and the call would wait for Orleans' response timeout.
            if (failed && !cancellationToken.IsCancellationRequested) _ = DisposeQuietly(tokens);
            else await tokens.DisposeAsync();
        }
    }

    /// <summary>
    /// How long a completion grain may take to say where it lives (the call that activates it): 2 s on
    /// the first attempt, 2 s more on each retry, at most 10 s. Placed on a frontend that was just
    /// killed (membership still lists it for a second or two), the call is never answered; a short
    /// first wait lets the retry, on a fresh grain, reach the survivor (a new request within ~2 s of a
    /// frontend's death instead of 10). A slow but live frontend costs a spare activation at worst.
    /// </summary>
    static TimeSpan SiloAnswerTimeout(int attempt) => TimeSpan.FromSeconds(Math.Min(10, 2 * (attempt + 1)));

    /// <summary>
    /// The grain stream's next token. The wait ends when <paramref name="lost"/> is cancelled (the frontend died)
    /// even if the call itself would not; that, and a call that failed with its silo, is a <see cref="FrontendLostException"/>.
    /// </summary>
    static async ValueTask<bool> NextToken(IAsyncEnumerator<SampledToken> tokens, string silo, CancellationToken lost, CancellationToken requestAborted)
    {
        try
        {
            var next = tokens.MoveNextAsync();
            return next.IsCompleted ? next.Result : await next.AsTask().WaitAsync(lost);
        }
        catch (OperationCanceledException e) when (lost.IsCancellationRequested && !requestAborted.IsCancellationRequested)
        {
            throw new FrontendLostException(silo, e);
        }
        catch (Exception e) when (e is not (FrontendLostException or CompletionRejectedException or OperationCanceledException) && FrontendRetryPolicy.IsFrontendFailure(e))
        {
            throw new FrontendLostException(silo, e); // the call failed with its silo (dropped connection, silo unavailable)
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
        FrontendLostException lost => new ApiException(503, $"The frontend serving this request failed ({lost.Message}) after part of the answer was sent; please retry the request.",
            "server_error", null, "frontend_lost") { RetryAfterSeconds = 1 },
        OperationCanceledException => null,
        SiloUnavailableException or OrleansMessageRejectionException or TimeoutException or OrleansException =>
            new ApiException(503, $"The cluster is unavailable: {e.Message}", "server_error", null, "service_unavailable") { RetryAfterSeconds = 1 },
        _ => null,
    };
}
