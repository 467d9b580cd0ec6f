using System.Buffers.Binary;
using System.Security.Cryptography;
using DeepSeekMesh.Sampling.Processors;

namespace DeepSeekMesh.Sampling;

/// <summary>
/// Chooses the next token of one sequence from its logits, with that request's <see cref="SamplingParams"/>.
/// Owns the request's PRNG (xoshiro256**) and <see cref="SequenceHistory"/>. One instance per sequence; not
/// thread-safe, but different samplers may run on different threads (working buffers are per thread).
/// <para>
/// Step order (vLLM v1 <c>Sampler.forward</c>): raw logprobs → min_tokens → logit_bias → repetition → frequency →
/// presence penalties → [greedy: argmax, done] → temperature → min_p → top_k → top_p → draw.
/// </para>
/// </summary>
public sealed class Sampler
{
    [ThreadStatic] private static LogitsState? _state;

    private readonly ILogitsProcessor[] _processors;
    private readonly ILogitsProcessor[] _argmaxProcessors;
    private readonly HashSet<int> _stopIds;
    private readonly Xoshiro256StarStar _rng;
    private readonly int _numLogprobs; // -1 = none

    /// <param name="parameters">The request's parameters; validated here (throws <see cref="SamplingParamsException"/>).</param>
    /// <param name="vocabSize">Length of every logits vector passed to <see cref="Sample"/>.</param>
    /// <param name="promptTokenIds">The prompt, for the repetition penalty.</param>
    /// <param name="eosTokenIds">The model's EOS token ids; they stop generation unless <see cref="SamplingParams.IgnoreEos"/>.</param>
    public Sampler(SamplingParams parameters, int vocabSize, ReadOnlySpan<int> promptTokenIds = default, IReadOnlyCollection<int>? eosTokenIds = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Validate(vocabSize);
        if (eosTokenIds is not null)
            foreach (int id in eosTokenIds)
                if ((uint)id >= (uint)vocabSize)
                    throw new ArgumentOutOfRangeException(nameof(eosTokenIds), id, $"EOS token id must be in [0, {vocabSize - 1}].");

        Params = parameters;
        VocabSize = vocabSize;
        History = new SequenceHistory(vocabSize, promptTokenIds);
        Seed = parameters.Seed ?? BinaryPrimitives.ReadUInt64LittleEndian(RandomNumberGenerator.GetBytes(8));
        _rng = new Xoshiro256StarStar(Seed);
        _numLogprobs = parameters.Logprobs ?? -1;

        _stopIds = [.. parameters.StopTokenIds];
        if (!parameters.IgnoreEos && eosTokenIds is not null) _stopIds.UnionWith(eosTokenIds);

        // min_tokens suppresses every stop id, EOS included even with ignore_eos (as vLLM's _all_stop_token_ids).
        var allStop = new HashSet<int>(parameters.StopTokenIds);
        if (eosTokenIds is not null) allStop.UnionWith(eosTokenIds);

        _processors = BuildProcessors(parameters, allStop);
        int argmaxCount = 0;
        while (argmaxCount < _processors.Length && _processors[argmaxCount].AffectsArgmax) argmaxCount++;
        _argmaxProcessors = _processors[..argmaxCount];
    }

    public SamplingParams Params { get; }

    public int VocabSize { get; }

    /// <summary>The prompt and the tokens sampled so far.</summary>
    public SequenceHistory History { get; }

    /// <summary>The PRNG seed in use: <see cref="SamplingParams.Seed"/>, or a random one drawn at construction.</summary>
    public ulong Seed { get; }

    /// <summary>The processors applied to the logits, in order (greedy decoding stops before temperature).</summary>
    public IReadOnlyList<ILogitsProcessor> Processors => _processors;

    /// <summary>True when <paramref name="tokenId"/> ends generation: a stop token id, or EOS unless ignored.</summary>
    public bool IsStopToken(int tokenId) => _stopIds.Contains(tokenId);

    /// <summary>
    /// The processor chain for <paramref name="p"/> in vLLM's order; disabled ones are left out.
    /// Greedy requests get only the argmax-affecting ones.
    /// </summary>
    public static ILogitsProcessor[] BuildProcessors(SamplingParams p, IReadOnlyCollection<int> allStopTokenIds)
    {
        var list = new List<ILogitsProcessor>(9);
        if (p.MinTokens > 0 && allStopTokenIds.Count > 0) list.Add(new MinTokensProcessor(p.MinTokens, allStopTokenIds));
        if (p.LogitBias is { Count: > 0 }) list.Add(new LogitBiasProcessor(p.LogitBias));
        if (p.RepetitionPenalty != 1f) list.Add(new RepetitionPenaltyProcessor(p.RepetitionPenalty));
        if (p.FrequencyPenalty != 0f) list.Add(new FrequencyPenaltyProcessor(p.FrequencyPenalty));
        if (p.PresencePenalty != 0f) list.Add(new PresencePenaltyProcessor(p.PresencePenalty));
        if (!p.IsGreedy)
        {
            float t = MathF.Max(p.Temperature, SamplingParams.MinPositiveTemperature);
            if (t != 1f) list.Add(new TemperatureProcessor(t));
            if (p.MinP > 0f) list.Add(new MinPProcessor(p.MinP));
            if (p.TopK > 0) list.Add(new TopKProcessor(p.TopK));
            if (p.TopP < 1f) list.Add(new TopPProcessor(p.TopP));
        }
        return [.. list];
    }

    /// <summary>
    /// Chooses the next token from <paramref name="logits"/> (length <see cref="VocabSize"/>, not modified),
    /// records it in <see cref="History"/>, and reports logprobs and whether the sequence is finished.
    /// </summary>
    public SampledToken Sample(ReadOnlySpan<float> logits)
    {
        if (logits.Length != VocabSize)
            throw new ArgumentException($"Expected {VocabSize} logits, got {logits.Length}.", nameof(logits));

        // Raw-logit top candidates for logprobs (selected first: in plain greedy decoding they also give the argmax).
        Span<Candidate> best = stackalloc Candidate[_numLogprobs >= 0 ? Math.Max(1, _numLogprobs) : 0];
        int nBest = _numLogprobs >= 0 ? VectorMath.SelectTop(logits, best.Length, best) : 0;

        int token;
        if (Params.IsGreedy)
        {
            if (_argmaxProcessors.Length == 0)
            {
                // SelectTop and ArgMax share the tie rule (lowest id). NaN logits are caught by ComputeLogprobs.
                token = nBest > 0 ? best[0].Id : VectorMath.ArgMax(logits);
            }
            else
            {
                var state = LoadState(logits);
                foreach (var proc in _argmaxProcessors) proc.Apply(state, History);
                token = VectorMath.ArgMax(state.Logits);
            }
        }
        else
        {
            var state = LoadState(logits);
            foreach (var proc in _processors) proc.Apply(state, History);
            token = Draw(state, _rng.NextDouble());
        }

        float logprob = float.NaN;
        int rank = 0;
        IReadOnlyList<TokenLogprob> top = Array.Empty<TokenLogprob>();
        if (_numLogprobs >= 0)
            (logprob, rank, top) = ComputeLogprobs(logits, token, _numLogprobs, best[..nBest]);

        History.Append(token);
        bool isStop = _stopIds.Contains(token);
        var finish = isStop ? FinishReason.Stop
            : Params.MaxTokens is { } max && History.OutputLength >= max ? FinishReason.Length
            : FinishReason.None;
        return new SampledToken
        {
            TokenId = token,
            Logprob = logprob,
            Rank = rank,
            TopLogprobs = top,
            IsStopToken = isStop,
            FinishReason = finish,
        };
    }

    /// <summary>
    /// Log-softmax of the raw logits: the logprob and 1-based rank (number of tokens at least as likely) of
    /// <paramref name="tokenId"/>, and the <paramref name="topN"/> (at most 20) most likely tokens sorted descending
    /// (ties: lower id first).
    /// </summary>
    public static (float Logprob, int Rank, IReadOnlyList<TokenLogprob> Top) ComputeLogprobs(ReadOnlySpan<float> logits, int tokenId, int topN)
    {
        Span<Candidate> best = stackalloc Candidate[Math.Clamp(topN, 1, SamplingParams.MaxLogprobs)];
        int n = VectorMath.SelectTop(logits, best.Length, best);
        return ComputeLogprobs(logits, tokenId, topN, best[..n]);
    }

    // best = the top candidates of the raw logits (from SelectTop), at least one unless all logits are -inf.
    private static (float Logprob, int Rank, IReadOnlyList<TokenLogprob> Top) ComputeLogprobs(
        ReadOnlySpan<float> logits, int tokenId, int topN, ReadOnlySpan<Candidate> best)
    {
        // The max comes free from the selection (it skips -inf; an all -inf vector gives -inf logprobs).
        float max = best.Length > 0 ? best[0].Logit : VectorMath.Max(logits);
        double sum = float.IsNegativeInfinity(max) ? 1.0 : VectorMath.SumExp(logits, max);
        if (double.IsNaN(sum)) throw new ArgumentException("Logits contain NaN.", nameof(logits));
        float lse = max + (float)Math.Log(sum);
        float chosen = logits[tokenId];
        // Rank: if the chosen token beats the last selected one, the selection already holds every token >= it.
        int rank;
        if (best.Length > 0 && chosen > best[^1].Logit)
        {
            rank = 0;
            foreach (var c in best) if (c.Logit >= chosen) rank++;
        }
        else
        {
            rank = VectorMath.CountGreaterOrEqual(logits, chosen);
        }
        if (topN <= 0) return (chosen - lse, rank, Array.Empty<TokenLogprob>());
        int count = Math.Min(topN, best.Length);
        var top = new TokenLogprob[count];
        for (int i = 0; i < count; i++) top[i] = new TokenLogprob(best[i].Id, best[i].Logit - lse);
        return (chosen - lse, rank, top);
    }

    private static LogitsState LoadState(ReadOnlySpan<float> logits)
    {
        var state = _state ??= new LogitsState(logits.Length);
        state.Load(logits);
        return state;
    }

    /// <summary>
    /// Inverse-CDF draw from softmax over the candidates, with <paramref name="u"/> uniform in [0, 1).
    /// Falls back to the argmax when no candidate has positive probability.
    /// </summary>
    internal static int Draw(LogitsState state, double u)
    {
        var logits = state.Logits;
        float max = state.MaxLogit();
        if (float.IsNaN(max)) throw new ArgumentException("Logits contain NaN.");
        if (float.IsNegativeInfinity(max) || float.IsPositiveInfinity(max))
            return state.IsTruncated && state.CandidateIds.Length > 0 && !float.IsPositiveInfinity(max)
                ? state.CandidateIds[0]
                : VectorMath.ArgMax(logits);

        if (state.IsTruncated)
        {
            var ids = state.CandidateIds;
            var w = state.Scratch;
            double total = 0;
            for (int i = 0; i < ids.Length; i++)
            {
                float e = MathF.Exp(logits[ids[i]] - max);
                w[i] = e;
                total += e;
            }
            double target = u * total, cum = 0;
            int last = -1;
            for (int i = 0; i < ids.Length; i++)
            {
                if (w[i] <= 0f) continue;
                cum += w[i];
                last = ids[i];
                if (cum > target) return last;
            }
            return last; // rounding: target landed past the accumulated total
        }
        else
        {
            var w = state.Scratch.AsSpan(0, logits.Length);
            var blocks = state.BlockSums;
            double total = VectorMath.ExpWithBlockSums(logits, max, w, blocks);
            double target = u * total, cum = 0;
            int nBlocks = (logits.Length + VectorMath.BlockSize - 1) / VectorMath.BlockSize;
            int b = 0;
            for (; b < nBlocks - 1; b++)
            {
                if (cum + blocks[b] > target) break;
                cum += blocks[b];
            }
            int start = b * VectorMath.BlockSize, end = Math.Min(start + VectorMath.BlockSize, logits.Length);
            int last = -1;
            for (int i = start; i < end; i++)
            {
                if (w[i] <= 0f) continue;
                cum += w[i];
                last = i;
                if (cum > target) return i;
            }
            if (last >= 0) return last;
            // Rounding left nothing in the chosen block: take the last token with positive weight anywhere.
            for (int i = logits.Length - 1; i >= 0; i--)
                if (w[i] > 0f) return i;
            return VectorMath.ArgMax(logits);
        }
    }
}
