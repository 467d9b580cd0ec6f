using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepSeekMesh.Sampling.Processors;

/// <summary>
/// Top-p (nucleus): keeps the smallest set of best candidates whose probability mass (softmax over the current
/// candidates, i.e. after temperature, min-p and top-k) reaches <c>top_p</c>. Walking candidates best first
/// (ties: lower id first), a token is kept while the mass of the tokens before it is below top_p; the best token is
/// always kept. This is the set vLLM's ascending-cumsum mask (<c>cumsum &lt;= 1 - p</c> removed) keeps.
/// <para>
/// Truncated input (after top-k): sort the few candidates and walk them.
/// Dense input, without sorting the vocabulary: (1) one vector pass computes the weights exp(l - max) and the mass
/// above a ladder of logit thresholds; (2) the tokens between the last threshold whose mass is below top_p and the
/// first one that reaches it (the "band") are gathered; (3) a weighted quickselect over the band finds the boundary
/// token; (4) everything below the boundary is masked to -inf, so the state stays dense.
/// </para>
/// </summary>
public sealed class TopPProcessor : ILogitsProcessor
{
    // Distances below the max logit (scaled-logit units, i.e. nats of probability ratio) for the mass ladder.
    private static readonly float[] Ladder = [0.5f, 1f, 2f, 3f, 4f, 6f, 8f, 12f, 16f, 24f];

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
            float e = VectorMath.Exp(logits[ids[i]] - max);
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
        if (float.IsNegativeInfinity(max) || float.IsNaN(max)) return;

        var weights = state.Scratch.AsSpan(0, logits.Length);
        int levels = Ladder.Length;
        Span<double> mass = stackalloc double[levels + 1]; // mass[levels] = total
        MassLadder(logits, max, weights, mass);
        double target = TopP * mass[levels];

        int level = 0;
        while (level < levels && mass[level] < target) level++;
        float bandLow = level < levels ? max - Ladder[level] : float.NegativeInfinity; // band: [bandLow, sureLow)
        float sureLow = level > 0 ? max - Ladder[level - 1] : float.PositiveInfinity;  // kept for sure: >= sureLow
        double cum = level > 0 ? mass[level - 1] : 0.0;
        bool anyKept = level > 0; // the max token is always >= sureLow when level > 0

        // Gather the band, with each token's weight alongside (the quickselect touches them repeatedly).
        var band = state.Pairs;
        var bandW = state.Scratch2;
        int nBand = 0;
        ref float r = ref MemoryMarshal.GetReference(logits);
        int n = logits.Length, i = 0, W = Vector256<float>.Count;
        var lowV = Vector256.Create(bandLow);
        var highV = Vector256.Create(sureLow);
        var ninf = Vector256.Create(float.NegativeInfinity);
        for (; i <= n - W; i += W)
        {
            var v = Vector256.LoadUnsafe(ref r, (nuint)i);
            uint bits = (Vector256.GreaterThanOrEqual(v, lowV) & Vector256.LessThan(v, highV) & Vector256.GreaterThan(v, ninf))
                .ExtractMostSignificantBits();
            while (bits != 0)
            {
                int j = i + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                bandW[nBand] = weights[j];
                band[nBand++] = new Candidate(logits[j], j);
            }
        }
        for (; i < n; i++)
        {
            float x = logits[i];
            if (x >= bandLow && x < sureLow && x > float.NegativeInfinity)
            {
                bandW[nBand] = weights[i];
                band[nBand++] = new Candidate(x, i);
            }
        }

        // Boundary = last kept token in best-first order; everything after it is removed.
        if (!FindBoundary(band.AsSpan(0, nBand), bandW.AsSpan(0, nBand), target, ref cum, anyKept, out var boundary))
        {
            // Empty band: only possible when the sure set is everything above bandLow (or bandLow is -inf).
            if (!float.IsNegativeInfinity(bandLow)) VectorMath.MaskBelow(logits, bandLow);
            return;
        }
        VectorMath.MaskBelow(logits, boundary.Logit);
        // Tokens tied with the boundary value but after it in id order are removed too.
        int tieStart = boundary.Id + 1;
        if (tieStart < n)
        {
            var tail = logits[tieStart..];
            int k;
            while ((k = VectorMath.IndexOfFirstEqual(tail, boundary.Logit)) >= 0)
            {
                tail[k] = float.NegativeInfinity;
                tail = tail[(k + 1)..];
            }
        }
    }

    /// <summary>
    /// Weighted quickselect over the band (unordered; <paramref name="w"/> holds the weights, permuted along):
    /// conceptually walks it best first, adding weights to <paramref name="cum"/> until it reaches
    /// <paramref name="target"/>, and returns the last token added. Expected O(band). False when nothing was added.
    /// </summary>
    private static bool FindBoundary(Span<Candidate> band, Span<float> w, double target, ref double cum, bool anyKept, out Candidate boundary)
    {
        boundary = default;
        bool found = false;
        while (band.Length > 0)
        {
            if (anyKept && cum >= target) return found;
            if (band.Length <= 32)
            {
                // Small: insertion sort best first (moving weights along), then walk.
                for (int a = 1; a < band.Length; a++)
                {
                    var c = band[a];
                    float cw = w[a];
                    int b = a - 1;
                    while (b >= 0 && Candidate.Better(c, band[b]))
                    {
                        band[b + 1] = band[b];
                        w[b + 1] = w[b];
                        b--;
                    }
                    band[b + 1] = c;
                    w[b + 1] = cw;
                }
                for (int a = 0; a < band.Length; a++)
                {
                    if (anyKept && cum >= target) break;
                    cum += w[a];
                    boundary = band[a];
                    found = anyKept = true;
                }
                return found;
            }
            // Three-way partition around a median-of-three pivot value: [> pivot | == pivot | < pivot].
            float pa = band[0].Logit, pb = band[band.Length / 2].Logit, pc = band[^1].Logit;
            float pivot = MathF.Max(MathF.Min(pa, pb), MathF.Min(MathF.Max(pa, pb), pc));
            int gt = 0, lt = band.Length, k = 0;
            double upperMass = 0;
            while (k < lt)
            {
                var x = band[k];
                float xw = w[k];
                if (x.Logit > pivot)
                {
                    upperMass += xw;
                    band[k] = band[gt];
                    w[k] = w[gt];
                    band[gt] = x;
                    w[gt] = xw;
                    gt++;
                    k++;
                }
                else if (x.Logit < pivot)
                {
                    lt--;
                    band[k] = band[lt];
                    w[k] = w[lt];
                    band[lt] = x;
                    w[lt] = xw;
                }
                else
                {
                    k++;
                }
            }
            if (gt > 0 && cum + upperMass >= target)
            {
                band = band[..gt]; // the boundary lies among the tokens above the pivot
                w = w[..gt];
                continue;
            }
            // Every token above the pivot is kept.
            if (gt > 0)
            {
                cum += upperMass;
                anyKept = true;
                found = true;
                boundary = FindWorst(band[..gt]);
            }
            // Ties at the pivot are kept in id order.
            var ties = band[gt..lt];
            var tiesW = w[gt..lt];
            if (ties.Length > 1) ties.Sort(tiesW, new DescendingCandidateComparer());
            for (int a = 0; a < ties.Length; a++)
            {
                if (anyKept && cum >= target) return found;
                cum += tiesW[a];
                boundary = ties[a];
                found = anyKept = true;
            }
            band = band[lt..];
            w = w[lt..];
        }
        return found;
    }

    private static Candidate FindWorst(ReadOnlySpan<Candidate> xs)
    {
        var worst = xs[0];
        for (int i = 1; i < xs.Length; i++)
            if (Candidate.Better(worst, xs[i])) worst = xs[i];
        return worst;
    }

    // weights[i] = exp(l_i - max); mass[j] = sum of weights over l >= max - ladder[j]; mass[ladder.Length] = total.
    // Float lane accumulators are flushed into double every block, for a relative error near 1e-7.
    private static void MassLadder(ReadOnlySpan<float> x, float max, Span<float> weights, Span<double> mass)
    {
        int levels = Ladder.Length;
        Span<Vector256<float>> acc = stackalloc Vector256<float>[levels + 1];
        Span<Vector256<float>> thr = stackalloc Vector256<float>[levels];
        for (int j = 0; j < levels; j++) thr[j] = Vector256.Create(max - Ladder[j]);
        mass.Clear();
        var m = Vector256.Create(max);
        ref float r = ref MemoryMarshal.GetReference(x);
        ref float wr = ref MemoryMarshal.GetReference(weights);
        int n = x.Length, i = 0, W = Vector256<float>.Count;
        while (i <= n - W)
        {
            int blockEnd = Math.Min(n, i + VectorMath.BlockSize);
            acc.Clear();
            for (; i <= blockEnd - W; i += W)
            {
                var v = Vector256.LoadUnsafe(ref r, (nuint)i);
                var e = VectorMath.Exp(v - m);
                e.StoreUnsafe(ref wr, (nuint)i);
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
            float e = VectorMath.Exp(x[i] - max);
            weights[i] = e;
            mass[levels] += e;
            for (int j = 0; j < levels; j++)
                if (x[i] >= max - Ladder[j]) mass[j] += e;
        }
    }
}
