using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepSeekMesh.Sampling.Processors;

/// <summary>
/// Top-p (nucleus): keeps the smallest set of best candidates whose probability mass (softmax over the current
/// candidates, i.e. after temperature, min-p and top-k) reaches <c>top_p</c>. Walking candidates best first, a
/// token is kept while the mass of the tokens strictly before it is below top_p; the best token is always kept.
/// This is the same set vLLM's ascending-cumsum mask (<c>cumsum &lt;= 1 - p</c> removed) keeps.
/// <para>
/// Truncated input (after top-k): sort the few candidates and walk them. Dense input: one vector pass measures
/// the mass above a ladder of logit thresholds; tokens above the last threshold whose mass is still below top_p
/// are kept without sorting, and only the band between that threshold and the first one that reaches top_p is
/// sorted. No full-vocabulary sort unless the distribution is nearly flat.
/// </para>
/// </summary>
public sealed class TopPProcessor : ILogitsProcessor
{
    // Distances below the max logit (in scaled-logit units = nats of probability ratio) for the mass ladder.
    private static readonly float[] s_ladder = [0.5f, 1f, 2f, 3f, 4f, 6f, 8f, 12f, 16f, 24f];

    public TopPProcessor(float topP)
    {
        if (!(topP > 0f && topP <= 1f)) throw new ArgumentOutOfRangeException(nameof(topP), topP, "Must be in (0, 1].");
        TopP = topP;
    }

    public float TopP { get; }

    public bool AffectsArgmax => false;

    public void Apply(LogitsState state, SequenceHistory history)
    {
        if (TopP >= 1f) return;
        if (state.IsTruncated) ApplySparse(state);
        else ApplyDense(state);
    }

    private void ApplySparse(LogitsState state)
    {
        state.SortCandidates();
        var ids = state.CandidateIds;
        if (ids.Length <= 1) return;
        var logits = state.Logits;
        var w = state.Scratch;
        float max = logits[ids[0]];
        if (float.IsNegativeInfinity(max)) return;
        double total = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            float e = MathF.Exp(logits[ids[i]] - max);
            w[i] = e;
            total += e;
        }
        double target = TopP * total;
        double cum = 0;
        int kept = 0;
        while (kept < ids.Length && (kept == 0 || cum < target))
            cum += w[kept++];
        state.CommitCandidates(kept, sortedDescending: true);
    }

    private void ApplyDense(LogitsState state)
    {
        var logits = state.Logits;
        float max = VectorMath.Max(logits);
        if (float.IsNegativeInfinity(max)) return;

        int levels = s_ladder.Length;
        Span<double> mass = stackalloc double[levels + 1]; // mass[levels] = total
        MassLadder(logits, max, mass);
        double target = TopP * mass[levels];

        int level = 0;
        while (level < levels && mass[level] < target) level++;
        float bandLow = level < levels ? max - s_ladder[level] : float.NegativeInfinity;     // band: [bandLow, sureLow)
        float sureLow = level > 0 ? max - s_ladder[level - 1] : float.PositiveInfinity;      // sure: >= sureLow

        // Gather: sure tokens straight into the candidate list, band tokens into pairs for sorting.
        var ids = state.CandidateBuffer;
        var pairs = state.Pairs;
        int nSure = 0, nBand = 0;
        double cum = 0;
        ref float r = ref MemoryMarshal.GetReference(logits);
        int n = logits.Length, i = 0, W = Vector256<float>.Count;
        var lowV = Vector256.Create(bandLow);
        for (; i <= n - W; i += W)
        {
            var v = Vector256.LoadUnsafe(ref r, (nuint)i);
            uint bits = (Vector256.GreaterThanOrEqual(v, lowV) & Vector256.GreaterThan(v, Vector256.Create(float.NegativeInfinity)))
                .ExtractMostSignificantBits();
            while (bits != 0)
            {
                int j = i + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                Take(logits[j], j);
            }
        }
        for (; i < n; i++)
        {
            float x = logits[i];
            if (x >= bandLow && x > float.NegativeInfinity) Take(x, i);
        }

        var band = pairs.AsSpan(0, nBand);
        band.Sort(new DescendingCandidateComparer());
        int kept = nSure;
        for (int b = 0; b < band.Length; b++)
        {
            if (kept > 0 && cum >= target) break;
            cum += MathF.Exp(band[b].Logit - max);
            ids[kept++] = band[b].Id;
        }
        state.CommitCandidates(kept, sortedDescending: nSure == 0);

        void Take(float x, int id)
        {
            if (x >= sureLow)
            {
                ids[nSure++] = id;
                cum += MathF.Exp(x - max);
            }
            else
            {
                pairs[nBand++] = new Candidate(x, id);
            }
        }
    }

    // mass[j] = sum of exp(l - max) over l >= max - ladder[j]; mass[ladder.Length] = sum over all.
    // Float lane accumulators are flushed into double every block, for a relative error near 1e-7.
    private static void MassLadder(ReadOnlySpan<float> x, float max, Span<double> mass)
    {
        int levels = s_ladder.Length;
        Span<Vector256<float>> acc = stackalloc Vector256<float>[levels + 1];
        Span<Vector256<float>> thr = stackalloc Vector256<float>[levels];
        for (int j = 0; j < levels; j++) thr[j] = Vector256.Create(max - s_ladder[j]);
        mass.Clear();
        var m = Vector256.Create(max);
        ref float r = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0, W = Vector256<float>.Count;
        while (i <= n - W)
        {
            int blockEnd = Math.Min(n, i + VectorMath.BlockSize);
            acc.Clear();
            for (; i <= blockEnd - W; i += W)
            {
                var v = Vector256.LoadUnsafe(ref r, (nuint)i);
                var e = Vector256.Exp(v - m);
                acc[levels] += e;
                // Thresholds rise as j falls: once no lane reaches level j, none reaches the levels above it.
                for (int j = levels - 1; j >= 0; j--)
                {
                    var ge = Vector256.GreaterThanOrEqual(v, thr[j]);
                    if (ge == Vector256<float>.Zero) break;
                    acc[j] += e & ge;
                }
            }
            for (int j = 0; j <= levels; j++) mass[j] += VectorMath.HorizontalSum(acc[j]);
        }
        for (; i < n; i++)
        {
            float e = MathF.Exp(x[i] - max);
            mass[levels] += e;
            for (int j = 0; j < levels; j++)
                if (x[i] >= max - s_ladder[j]) mass[j] += e;
        }
    }
}
