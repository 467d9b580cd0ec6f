using System.Diagnostics;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Model.Engine;

/// <summary>
/// The <see cref="InferenceEngine"/> behind a blocking one-shot call (as vLLM's <c>LLM</c> wraps its
/// engine), for the CLI, tests and benchmarks: a batch of requests goes in together, so every prompt
/// is prefilled in one ragged step; then every unfinished sequence advances by one token per step,
/// each sampling with its own parameters and seed. The engine is sized for the largest batch seen so
/// far (a bigger one replaces it). <paramref name="prefixCaching"/>: the engine's automatic prefix caching
/// (<see cref="EngineOptions.EnablePrefixCaching"/>); a later call reuses the prompt prefixes of earlier ones.
/// </summary>
public sealed class OfflineEngine(Transformer model, bool prefixCaching = true) : IDisposable
{
    InferenceEngine? _engine;
    EngineOptions? _options; // what _engine was sized for

    public Transformer Model => model;

    /// <summary>
    /// Runs <paramref name="requests"/> to completion. <paramref name="keepLogits"/> keeps the logits
    /// each token was sampled from; <paramref name="onToken"/> sees each token (with its request's
    /// index) on the engine thread as it is chosen, and may end its sequence by returning false
    /// (a stop string in the text): that sequence finishes with <see cref="FinishReason.Stop"/>.
    /// </summary>
    public (IReadOnlyList<GenerationResult> Results, GenerationTiming Timing) Generate(
        IReadOnlyList<EngineRequest> requests, bool keepLogits = false, Func<int, SampledToken, bool>? onToken = null)
    {
        var fitted = FitContext(model, requests);
        return fitted.Length == 0 ? ([], new GenerationTiming(0, 0, 0)) : Run(EngineFor(fitted), fitted, keepLogits, onToken);
    }

    /// <summary>
    /// <see cref="Generate"/> on an engine someone else owns (a frontend silo's, in the mesh benchmark):
    /// the batch must fit its cache and step budget to be prefilled together.
    /// </summary>
    public static (IReadOnlyList<GenerationResult> Results, GenerationTiming Timing) Generate(InferenceEngine engine,
        IReadOnlyList<EngineRequest> requests, bool keepLogits = false, Func<int, SampledToken, bool>? onToken = null)
    {
        var fitted = FitContext(engine.Model, requests);
        return fitted.Length == 0 ? ([], new GenerationTiming(0, 0, 0)) : Run(engine, fitted, keepLogits, onToken);
    }

    /// <summary>Within the context, as a fixed batch allows: a prompt that fills it is refused and max_tokens is clipped to the room left.</summary>
    static EngineRequest[] FitContext(Transformer model, IReadOnlyList<EngineRequest> requests)
    {
        int maxPositions = model.Config.MaxPositionEmbeddings;
        return requests.Select(r =>
        {
            if (r.Prompt.Count >= maxPositions) throw new ContextLengthException(Math.Max(r.Prompt.Count, maxPositions + 1), maxPositions);
            int room = maxPositions - r.Prompt.Count;
            return r with { Sampling = r.Sampling with { MaxTokens = Math.Min(r.Sampling.MaxTokens ?? room, room) } };
        }).ToArray();
    }

    static (IReadOnlyList<GenerationResult> Results, GenerationTiming Timing) Run(InferenceEngine engine,
        EngineRequest[] fitted, bool keepLogits, Func<int, SampledToken, bool>? onToken)
    {
        int n = fitted.Length;
        var logits = Enumerable.Range(0, n).Select(_ => new List<float[]>()).ToArray();
        var counts = new int[n];
        var stopped = new bool[n];
        int prefilled = 0;
        long firstTokens = 0, lastToken = 0;
        bool Observe(int i, SampledToken token, ReadOnlySpan<float> row)
        {
            long now = Stopwatch.GetTimestamp();
            if (counts[i]++ == 0 && ++prefilled == n) firstTokens = now; // every prompt is prefilled: decode starts
            lastToken = now;
            if (keepLogits) logits[i].Add(row.ToArray());
            if (onToken is null || onToken(i, token) || token.FinishReason != FinishReason.None) return true;
            stopped[i] = true;
            return false;
        }

        long start = Stopwatch.GetTimestamp();
        var streams = engine.GenerateAsync(fitted, Observe);
        var tokens = Task.Run(() => Task.WhenAll(streams.Select(Collect))).GetAwaiter().GetResult();
        var results = tokens.Select((t, i) => new GenerationResult(t, keepLogits ? logits[i] : null,
            stopped[i] ? FinishReason.Stop : t[^1].FinishReason)).ToArray();
        var timing = new GenerationTiming(Stopwatch.GetElapsedTime(start, firstTokens).TotalSeconds,
            Stopwatch.GetElapsedTime(firstTokens, lastToken).TotalSeconds, tokens.Sum(t => t.Count) - n);
        return (results, timing);
    }

    static async Task<List<SampledToken>> Collect(IAsyncEnumerable<SampledToken> stream)
    {
        var tokens = new List<SampledToken>();
        await foreach (var token in stream.ConfigureAwait(false)) tokens.Add(token);
        return tokens;
    }

    /// <summary>An engine whose cache, step and queue hold the whole batch at once (so its prompts share one prefill step).</summary>
    InferenceEngine EngineFor(IReadOnlyList<EngineRequest> requests)
    {
        var defaults = new EngineOptions();
        int blocks = requests.Sum(r => (r.Prompt.Count + r.Sampling.MaxTokens!.Value + defaults.BlockSize - 1) / defaults.BlockSize);
        var needed = new EngineOptions
        {
            CacheBlocks = Math.Max(blocks, 1),
            MaxBatchTokens = Math.Max(requests.Sum(r => r.Prompt.Count), 1),
            MaxRunningSequences = Math.Max(requests.Count, 1),
            MaxWaitingRequests = Math.Max(requests.Count, 1),
            EnablePrefixCaching = prefixCaching,
        };
        if (_engine is { } current && _options is { } have && have.CacheBlocks >= needed.CacheBlocks && have.MaxBatchTokens >= needed.MaxBatchTokens
            && have.MaxRunningSequences >= needed.MaxRunningSequences)
            return current;
        if (_options is { } old)
            needed = new EngineOptions
            {
                CacheBlocks = Math.Max(old.CacheBlocks, needed.CacheBlocks),
                MaxBatchTokens = Math.Max(old.MaxBatchTokens, needed.MaxBatchTokens),
                MaxRunningSequences = Math.Max(old.MaxRunningSequences, needed.MaxRunningSequences),
                MaxWaitingRequests = Math.Max(old.MaxWaitingRequests, needed.MaxWaitingRequests),
                EnablePrefixCaching = prefixCaching,
            };
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _options = needed;
        return _engine = new InferenceEngine(model, needed);
    }

    public void Dispose()
    {
        _engine?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _engine = null;
    }
}
