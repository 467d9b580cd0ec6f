using System.Diagnostics;
using System.Runtime.CompilerServices;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Sampling.Structured;

namespace DeepSeekMesh.Model.Engine;

/// <summary>
/// Continuous batching over one model: requests join and leave between steps, each with its own
/// sampling parameters and seed; prompts are prefilled in chunks alongside running decodes; the
/// latent KV cache is a fixed pool of blocks and a request is admitted only when the blocks for its
/// whole prompt + max_tokens are free (so nothing is ever preempted). With prefix caching a request
/// starts on the cached blocks of its longest cached prompt prefix and prefills only the rest (its
/// first token reports how many prompt tokens were reused); cached blocks nobody holds count as free
/// and are evicted least recently used first. One dedicated thread runs the steps; callers stream
/// tokens through channels. Requests with a JSON response format (<see cref="SamplingParams.JsonSchema"/>) are
/// decoded under their schema's <see cref="TokenGrammar"/>: each step masks their logits rows on the CPU (the
/// rows the sampler reads anyway: no extra device sync) and the token that completes the JSON ends them.
/// </summary>
public sealed class InferenceEngine : IAsyncDisposable
{
    readonly EngineOptions _options;
    readonly LatentCachePool _pool;
    readonly Queue<EngineSequence> _incoming = new();
    readonly List<EngineSequence> _waiting = new();
    readonly List<EngineSequence> _running = new();
    readonly SemaphoreSlim _wake = new(0);
    readonly CancellationTokenSource _stop = new();
    readonly Thread _loop;
    readonly int[] _eos;
    readonly Lazy<TokenVocabulary>? _vocabulary;
    float[] _hostLogits = []; // each step's logits on the host; the engine thread's alone, reused (not a new LOH array per step)
    readonly int _torchThreads = TorchSharp.torch.get_num_threads(); // libtorch's intra-op threads as configured (--threads)
    int _stepThreads; // what the engine thread last asked libtorch for
    int _waitingCount;
    long _steps, _tokens, _promptTokens, _cachedTokens;

    /// <param name="vocabulary">The tokenizer's vocabulary for JSON response formats, built on first use; null: such requests are refused.</param>
    public InferenceEngine(Transformer model, EngineOptions? options = null, Func<TokenVocabulary>? vocabulary = null)
    {
        _vocabulary = vocabulary is null ? null : new Lazy<TokenVocabulary>(vocabulary);
        Model = model;
        _options = options ?? new EngineOptions();
        _pool = new LatentCachePool(model.Config, model.Options, _options.CacheBlocks, _options.BlockSize, prefixCaching: _options.EnablePrefixCaching);
        _eos = model.Config.EosTokenId is { } e ? [e] : [];
        _loop = new Thread(Run) { IsBackground = true, Name = "dsmesh-engine" };
        _loop.Start();
    }

    public Transformer Model { get; }

    public EngineStats Stats
    {
        get
        {
            lock (_incoming)
                return new EngineStats(_running.Count, _waitingCount, _pool.UsedBlocks, _pool.TotalBlocks, Interlocked.Read(ref _steps), Interlocked.Read(ref _tokens))
                {
                    CacheBlocksCached = _pool.CachedBlocks,
                    PromptTokens = Interlocked.Read(ref _promptTokens),
                    CachedPromptTokens = Interlocked.Read(ref _cachedTokens),
                };
        }
    }

    /// <summary>
    /// Queues a request and streams its tokens as they are sampled; the last one carries the finish
    /// reason. Invalid or impossible requests throw here; cancelling frees the sequence's blocks.
    /// </summary>
    public IAsyncEnumerable<SampledToken> GenerateAsync(EngineRequest request, CancellationToken cancellationToken = default) =>
        GenerateAsync([request], null, cancellationToken)[0];

    /// <summary>
    /// Queues several requests at once: they are admitted together (when they fit), so their prompts
    /// share the first step, as a fixed batch would. <paramref name="observer"/>, when given, sees every
    /// token of these requests with its logits on the engine thread (timing, logits capture, stop strings).
    /// </summary>
    public IReadOnlyList<IAsyncEnumerable<SampledToken>> GenerateAsync(IReadOnlyList<EngineRequest> requests, TokenObserver? observer,
        CancellationToken cancellationToken = default)
    {
        var sequences = requests.Select((r, i) => Prepare(r, observer, i)).ToArray();
        lock (_incoming)
        {
            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            if (_waitingCount + sequences.Length > _options.MaxWaitingRequests) throw new EngineOverloadedException(_waitingCount);
            _waitingCount += sequences.Length;
            foreach (var s in sequences) _incoming.Enqueue(s);
        }
        _wake.Release();
        return sequences.Select(s => Stream(s, cancellationToken)).ToArray();
    }

    EngineSequence Prepare(EngineRequest request, TokenObserver? observer, int index)
    {
        var c = Model.Config;
        if (request.Prompt.Count == 0) throw new ArgumentException("prompt is empty");
        if (request.Prompt.Any(t => t < 0 || t >= c.VocabSize)) throw new ArgumentException($"prompt token ids must be in [0, {c.VocabSize})");
        if (request.Prompt.Count >= c.MaxPositionEmbeddings)
            throw new RequestTooLargeException($"prompt of {request.Prompt.Count} tokens leaves no room in the model's context of {c.MaxPositionEmbeddings} tokens");
        int room = c.MaxPositionEmbeddings - request.Prompt.Count;
        if (request.Sampling.MaxTokens is { } max && max > room)
            throw new RequestTooLargeException($"prompt ({request.Prompt.Count} tokens) + max_tokens ({max}) exceeds the model's context of {c.MaxPositionEmbeddings} tokens");
        var sampling = request.Sampling.MaxTokens is null ? request.Sampling with { MaxTokens = room } : request.Sampling;
        int blocks = _pool.BlocksFor(request.Prompt.Count + sampling.MaxTokens!.Value);
        if (blocks > _pool.TotalBlocks)
            throw new RequestTooLargeException($"prompt + max_tokens needs {blocks} KV cache blocks; the whole cache has {_pool.TotalBlocks}");
        var sampler = new Sampler(sampling, c.VocabSize, request.Prompt.ToArray(), _eos);
        var grammar = sampling.JsonSchema is { } schema ? Grammar(schema, sampling.MaxTokens!.Value) : null;
        return new EngineSequence(request with { Sampling = sampling }, sampler, new LatentCache(_pool, c), blocks)
        {
            Observer = observer,
            Index = index,
            Grammar = grammar,
        };
    }

    /// <summary>A matcher for the schema (compiled once per schema); the schema's shortest output must fit in max_tokens.</summary>
    GrammarMatcher Grammar(string schema, int maxTokens)
    {
        if (_vocabulary is null)
            throw new SamplingParamsException("response_format", "this engine has no tokenizer vocabulary (tokenizer.json in the model directory), so it cannot constrain output to JSON");
        TokenVocabulary vocabulary;
        try
        {
            vocabulary = _vocabulary.Value;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new SamplingParamsException("response_format", $"the tokenizer vocabulary could not be read, so output cannot be constrained to JSON: {e.Message}");
        }
        var grammar = vocabulary.Grammar(schema);
        if (grammar.MinOutputTokens > maxTokens)
            throw new SamplingParamsException("max_tokens", $"max_tokens must be at least {grammar.MinOutputTokens} for this response_format (its shortest output), got {maxTokens}.");
        return grammar.NewMatcher();
    }

    async IAsyncEnumerable<SampledToken> Stream(EngineSequence sequence, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var token in sequence.Output.Reader.ReadAllAsync(cancellationToken))
                yield return token;
        }
        finally
        {
            if (!sequence.Output.Reader.Completion.IsCompleted)
            {
                sequence.Cancelled = true; // the caller left: the loop frees the sequence at its next step
                _wake.Release();
            }
        }
    }

    void Run()
    {
        var stop = _stop.Token;
        while (!stop.IsCancellationRequested)
        {
            TakeIncoming();
            RetireCancelled();
            AdmitWaiting();
            if (_running.Count == 0)
            {
                try { _wake.Wait(stop); } catch (OperationCanceledException) { break; }
                continue;
            }
            Step();
        }
        FailAll(new ObjectDisposedException(nameof(InferenceEngine), "the engine stopped"));
    }

    void TakeIncoming()
    {
        lock (_incoming)
            while (_incoming.TryDequeue(out var s)) _waiting.Add(s);
    }

    void RetireCancelled()
    {
        foreach (var s in _waiting.Where(s => s.Cancelled).ToList()) Retire(s, _waiting, null);
        foreach (var s in _running.Where(s => s.Cancelled).ToList()) Retire(s, _running, null);
    }

    void AdmitWaiting()
    {
        while (_waiting.Count > 0 && _running.Count < _options.MaxRunningSequences)
        {
            var next = _waiting[0]; // FIFO: a big request is not overtaken forever by small ones
            if (!next.Cache.TryAdmit(next.Request.Prompt, next.Request.Prompt.Count + next.Request.Sampling.MaxTokens!.Value, out int cached)) break;
            next.Prefilled = next.CachedTokens = cached;
            Interlocked.Add(ref _promptTokens, next.Request.Prompt.Count);
            Interlocked.Add(ref _cachedTokens, cached);
            _waiting.RemoveAt(0);
            lock (_incoming) _waitingCount--;
            _running.Add(next);
        }
    }

    void Step()
    {
        var batch = new List<EngineSequence>();
        foreach (var s in _running.Where(s => !s.Prefilling)) batch.Add(s);
        int budget = Math.Max(_options.MaxBatchTokens - batch.Count, 1);
        var inputs = batch.Select(s => s.NextInput(1)).ToList();
        foreach (var s in _running.Where(s => s.Prefilling))
        {
            if (budget <= 0) break;
            var chunk = s.NextInput(budget);
            budget -= chunk.Count;
            batch.Add(s);
            inputs.Add(chunk);
        }
        // A CPU step where every sequence decodes one token (and few of them): the big products run in our own
        // kernels on the .NET pool (DenseGemv, Fp8Gemv), and libtorch is left ~80 small ops per layer, for which
        // waking its OpenMP threads costs more than they give — and they spin on the cores our kernels need.
        // Measured on small (2 cores): decode 1.3x faster with one libtorch thread. Prefill keeps them all.
        bool fewDecodes = Model.Options.Device.type == TorchSharp.DeviceType.CPU && inputs.Count <= Layers.DenseGemv.MaxRows && inputs.All(i => i.Count == 1);
        UseTorchThreads(fewDecodes ? 1 : _torchThreads);
        // Tracing (only when a listener samples it): the step continues its first sequence's request trace and
        // links the others', so the expert and router grain calls made inside Forward join the request's trace.
        using var activity = Tracing.HasListeners() ? StartStep(batch) : null;
        try
        {
            using var forward = new ForwardBatch(batch.Select((s, i) => (s.Cache, inputs[i])).ToArray(), Model.Options.Device);
            using var logits = Model.Forward(forward); // [S, vocab]
            TensorData.CopyTo(logits, ref _hostLogits); // [S · vocab], reused across steps
            var rows = _hostLogits;
            int vocab = Model.Config.VocabSize;
            Interlocked.Increment(ref _steps);
            for (int i = 0; i < batch.Count; i++)
            {
                var s = batch[i];
                s.Cache.CacheFullBlocks(s.Tokens); // blocks this step filled become reusable
                if (s.Prefilling)
                {
                    s.Prefilled += inputs[i].Count;
                    if (s.Prefilling) continue; // more prompt to go: these logits are not a prediction anyone asked for
                }
                s.Grammar?.Apply(new Span<float>(rows, i * vocab, vocab), s.Request.Sampling.MaxTokens!.Value - s.Sampler.History.OutputLength);
                var token = s.Sampler.Sample(new ReadOnlySpan<float>(rows, i * vocab, vocab));
                if (s.Grammar is { } g)
                {
                    if (!g.Advance(token.TokenId))
                    {
                        // Only reachable if every allowed logit was NaN or -inf: this sequence fails, the batch goes on.
                        Retire(s, _running, new InvalidOperationException($"token {token.TokenId} does not continue the JSON response format"));
                        continue;
                    }
                    if (g.IsComplete) token = token with { FinishReason = FinishReason.Stop }; // complete JSON: a natural stop, even on the last allowed token
                }
                if (s.Tokens.Count == s.Request.Prompt.Count) token = token with { CachedPromptTokens = s.CachedTokens }; // the first token reports the reuse
                s.Tokens.Add(token.TokenId);
                if (token.FinishReason == FinishReason.None && s.Cache.Length >= Model.Config.MaxPositionEmbeddings)
                    token = token with { FinishReason = FinishReason.Length };
                s.LastToken = token.TokenId;
                Interlocked.Increment(ref _tokens);
                bool more = s.Observer?.Invoke(s.Index, token, new ReadOnlySpan<float>(rows, i * vocab, vocab)) ?? true;
                s.Output.Writer.TryWrite(token);
                if (token.FinishReason != FinishReason.None || !more) Retire(s, _running, null);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A failed step (e.g. experts unreachable after retries) fails its sequences, not the engine.
            foreach (var s in batch) Retire(s, _running, e);
        }
    }

    /// <summary>libtorch's intra-op threads for this (the engine's) thread; OpenMP keeps the setting per thread.</summary>
    void UseTorchThreads(int threads)
    {
        if (threads == _stepThreads) return;
        TorchSharp.torch.set_num_threads(threads);
        _stepThreads = threads;
    }

    static readonly ActivitySource Tracing = new("DeepSeekMesh.Engine");

    static Activity? StartStep(List<EngineSequence> batch)
    {
        var parent = batch.Select(s => s.Origin).FirstOrDefault(o => o != default);
        var links = batch.Count > 1 ? batch.Where(s => s.Origin != default).Select(s => new ActivityLink(s.Origin)).ToArray() : null;
        var activity = Tracing.StartActivity("engine.step", ActivityKind.Internal, parent, links: links);
        activity?.SetTag("dsmesh.batch.sequences", batch.Count);
        return activity;
    }

    void Retire(EngineSequence s, List<EngineSequence> from, Exception? error)
    {
        if (from.Remove(s) && ReferenceEquals(from, _waiting))
            lock (_incoming) _waitingCount--;
        s.Cache.Dispose();
        s.Output.Writer.TryComplete(error);
    }

    void FailAll(Exception error)
    {
        TakeIncoming();
        foreach (var s in _waiting.ToList()) Retire(s, _waiting, error);
        foreach (var s in _running.ToList()) Retire(s, _running, error);
    }

    public async ValueTask DisposeAsync()
    {
        lock (_incoming) _stop.Cancel();
        _wake.Release();
        await Task.Run(() => _loop.Join());
        _pool.Dispose();
        _stop.Dispose();
        _wake.Dispose();
    }
}
