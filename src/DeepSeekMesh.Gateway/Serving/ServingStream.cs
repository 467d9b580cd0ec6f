using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using DeepSeekMesh.Gateway.Protocol;

namespace DeepSeekMesh.Gateway.Serving;

/// <summary>
/// One admitted, started request: its id, creation time and job, and its choices' events. Consumed
/// once, either as events (<see cref="EventsAsync"/>: SSE and WebSocket) or collected (<see cref="CollectAsync"/>: JSON).
/// </summary>
public sealed class ServingStream(GenerationJob job, string id, long created, IAsyncEnumerator<ChoiceEvent>[] started, GatewayOptions options, ILogger logger)
{
    public GenerationJob Job => job;
    public string Id => id;
    public long Created => created;
    public string Model => job.Model.Id;

    /// <summary>One parser per choice when the job asks for reasoning or tool calls.</summary>
    readonly ChoiceParser[]? _parsers = job.Parsing is { } parsing ? Enumerable.Range(0, job.Choices).Select(_ => new ChoiceParser(parsing)).ToArray() : null;

    ChoiceEvent Parse(ChoiceEvent e) => _parsers is null ? e : _parsers[e.Index].Parse(e);

    /// <summary>Every choice's events as they come, then the usage; a cluster failure is the last event. Cancellation propagates.</summary>
    public async IAsyncEnumerable<ServingEvent> EventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var seen = new bool[job.Choices];
        int completionTokens = 0;
        var cached = new int[job.Choices];
        await using var events = Generation.Merge(started, cancellationToken).GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            ApiException? failure = null;
            bool more = false;
            try
            {
                more = await events.MoveNextAsync();
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // After the response started, even a bug ends the stream with an error event rather than a cut connection.
                failure = Generation.Map(e, options);
                if (failure is null)
                {
                    logger.LogError(e, "request {Id} failed after its response started", id);
                    failure = new ApiException(500, "The server had an error while processing your request.", "server_error", null, "internal_error");
                }
            }
            if (failure is not null)
            {
                yield return new StreamFailed(failure);
                yield break;
            }
            if (!more) break;
            var choice = Parse(events.Current);
            bool first = !seen[choice.Index];
            seen[choice.Index] = true;
            cached[choice.Index] = choice.CachedTokens;
            if (choice.FinishReason is not null) completionTokens += choice.CompletionTokens;
            yield return new ChoiceDelta(choice, first);
        }
        yield return new UsageReport(Usage.Of(job, completionTokens, i => cached[i]));
    }

    /// <summary>Every choice whole (a failure throws).</summary>
    public async Task<List<ChoiceResult>> CollectAsync(CancellationToken cancellationToken)
    {
        var choices = Enumerable.Range(0, job.Choices).Select(i => new ChoiceResult(i)).ToList();
        await foreach (var e in Generation.Merge(started, cancellationToken)) choices[e.Index].Add(Parse(e));
        return choices;
    }
}
