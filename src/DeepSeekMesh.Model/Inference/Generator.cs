using System.Diagnostics;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Model.Inference;

/// <summary>A prompt and how to continue it.</summary>
public sealed record GenerationRequest(IReadOnlyList<int> Prompt, SamplingParams Sampling);

/// <summary>What one sequence produced: tokens, optional raw logits per token, why it stopped.</summary>
public sealed record GenerationResult(IReadOnlyList<SampledToken> Tokens, IReadOnlyList<float[]>? Logits, FinishReason FinishReason);

/// <summary>Wall-clock split of a generation: prefill, then decode steps over the KV cache.</summary>
public sealed record GenerationTiming(double PrefillSeconds, double DecodeSeconds, int DecodeTokens)
{
    /// <summary>Tokens per second over the decode steps (all tokens after each sequence's first).</summary>
    public double DecodeTokensPerSecond => DecodeSeconds > 0 ? DecodeTokens / DecodeSeconds : 0;
}

/// <summary>
/// Runs a batch of requests to completion on one model: one ragged prefill, then decode steps in
/// which every unfinished sequence advances by one token; each sequence samples with its own
/// parameters and seed. <c>onToken</c> sees each token as it is chosen and may end its sequence
/// by returning false (a stop string in the text). (The mesh's continuous-batching engine admits and retires sequences between
/// steps; this is its fixed-batch form for the CLI, tests and benchmarks.)
/// </summary>
public sealed class Generator(Transformer model)
{
    public (IReadOnlyList<GenerationResult> Results, GenerationTiming Timing) Generate(
        IReadOnlyList<GenerationRequest> requests, bool keepLogits = false, Func<int, SampledToken, bool>? onToken = null)
    {
        var eos = model.Config.EosTokenId is { } e ? new[] { e } : [];
        var sequences = requests.Select(r =>
        {
            if (r.Prompt.Count == 0) throw new ArgumentException("prompt is empty");
            r.Sampling.Validate(model.Config.VocabSize);
            if (r.Prompt.Any(t => t < 0 || t >= model.Config.VocabSize))
                throw new ArgumentException($"prompt token ids must be in [0, {model.Config.VocabSize})");
            return new Sequence(model.NewCache(r.Prompt.Count + (r.Sampling.MaxTokens ?? 16)),
                new Sampler(r.Sampling, model.Config.VocabSize, r.Prompt.ToArray(), eos), r.Prompt.ToArray());
        }).ToArray();
        try
        {
            var clock = Stopwatch.StartNew();
            Step(sequences, keepLogits, onToken);
            double prefill = clock.Elapsed.TotalSeconds;
            int decoded = 0;
            clock.Restart();
            while (sequences.Any(s => s.Finish == FinishReason.None))
                decoded += Step(sequences.Where(s => s.Finish == FinishReason.None).ToArray(), keepLogits, onToken, sequences);
            var timing = new GenerationTiming(prefill, clock.Elapsed.TotalSeconds, decoded);
            return (sequences.Select(s => new GenerationResult(s.Tokens, keepLogits ? s.Logits : null, s.Finish)).ToArray(), timing);
        }
        finally
        {
            foreach (var s in sequences) s.Cache.Dispose();
        }
    }

    int Step(Sequence[] active, bool keepLogits, Func<int, SampledToken, bool>? onToken, Sequence[]? all = null)
    {
        all ??= active;
        using var batch = new ForwardBatch(active.Select(s => (s.Cache, (IReadOnlyList<int>)s.Next)).ToArray(), model.Options.Device);
        using var logits = model.Forward(batch); // [S, vocab]
        var rows = TensorData.ToArray<float>(logits);
        int vocab = model.Config.VocabSize;
        for (int i = 0; i < active.Length; i++)
        {
            var s = active[i];
            var row = new ReadOnlySpan<float>(rows, i * vocab, vocab);
            var token = s.Sampler.Sample(row);
            s.Tokens.Add(token);
            if (keepLogits) s.Logits.Add(row.ToArray());
            s.Next = [token.TokenId];
            s.Finish = token.FinishReason;
            if (s.Finish == FinishReason.None && s.Cache.Length >= model.Config.MaxPositionEmbeddings) s.Finish = FinishReason.Length;
            if (onToken is not null && !onToken(Array.IndexOf(all, s), token) && s.Finish == FinishReason.None)
                s.Finish = FinishReason.Stop; // the caller saw a stop string
        }
        return active.Length;
    }

    sealed class Sequence(LatentCache cache, Sampler sampler, int[] prompt)
    {
        public LatentCache Cache { get; } = cache;
        public Sampler Sampler { get; } = sampler;
        public int[] Next { get; set; } = prompt;
        public List<SampledToken> Tokens { get; } = new();
        public List<float[]> Logits { get; } = new();
        public FinishReason Finish { get; set; }
    }
}
