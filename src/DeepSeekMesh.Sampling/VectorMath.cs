using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepSeekMesh.Sampling;

/// <summary>A (logit, token id) pair used by partial selection and sorting.</summary>
internal struct Candidate
{
    public float Logit;
    public int Id;

    public Candidate(float logit, int id)
    {
        Logit = logit;
        Id = id;
    }

    /// <summary>True when <paramref name="a"/> ranks before <paramref name="b"/>: larger logit, then lower id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Better(in Candidate a, in Candidate b) => a.Logit > b.Logit || (a.Logit == b.Logit && a.Id < b.Id);
}

/// <summary>Orders candidates by descending logit, then ascending id (a total, deterministic order).</summary>
internal readonly struct DescendingCandidateComparer : IComparer<Candidate>
{
    public int Compare(Candidate a, Candidate b)
    {
        if (a.Logit > b.Logit) return -1;
        if (a.Logit < b.Logit) return 1;
        return a.Id.CompareTo(b.Id);
    }
}

/// <summary>
/// Vectorized span kernels (Vector256, which .NET maps to AVX on x64 and to pairs of 128-bit ops elsewhere).
/// Reductions use a fixed lane layout, so their rounding does not depend on the machine's vector width.
/// </summary>
internal static class VectorMath
{
    private static readonly int W = Vector256<float>.Count; // 8

    /// <summary>Largest element; NaN if any element is NaN.</summary>
    public static float Max(ReadOnlySpan<float> x)
    {
        if (x.IsEmpty) throw new ArgumentException("Empty span.", nameof(x));
        ref float r = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        float m;
        if (n >= 4 * W)
        {
            var m0 = Vector256.LoadUnsafe(ref r, 0);
            var m1 = Vector256.LoadUnsafe(ref r, (nuint)W);
            var m2 = Vector256.LoadUnsafe(ref r, (nuint)(2 * W));
            var m3 = Vector256.LoadUnsafe(ref r, (nuint)(3 * W));
            var nan = Vector256<float>.Zero;
            for (i = 4 * W; i <= n - 4 * W; i += 4 * W)
            {
                var v0 = Vector256.LoadUnsafe(ref r, (nuint)i);
                var v1 = Vector256.LoadUnsafe(ref r, (nuint)(i + W));
                var v2 = Vector256.LoadUnsafe(ref r, (nuint)(i + 2 * W));
                var v3 = Vector256.LoadUnsafe(ref r, (nuint)(i + 3 * W));
                m0 = Vector256.MaxNative(m0, v0);
                m1 = Vector256.MaxNative(m1, v1);
                m2 = Vector256.MaxNative(m2, v2);
                m3 = Vector256.MaxNative(m3, v3);
                // x != x only for NaN; MaxNative alone would drop NaNs.
                nan |= ~Vector256.Equals(v0, v0) | ~Vector256.Equals(v1, v1) | ~Vector256.Equals(v2, v2) | ~Vector256.Equals(v3, v3);
            }
            nan |= ~Vector256.Equals(m0, m0) | ~Vector256.Equals(m1, m1) | ~Vector256.Equals(m2, m2) | ~Vector256.Equals(m3, m3);
            if (nan != Vector256<float>.Zero) return float.NaN;
            var mv = Vector256.Max(Vector256.Max(m0, m1), Vector256.Max(m2, m3));
            m = mv[0];
            for (int l = 1; l < W; l++) m = MathF.Max(m, mv[l]);
        }
        else
        {
            m = x[0];
        }
        for (; i < n; i++) m = MathF.Max(m, x[i]);
        return m;
    }

    // Cody-Waite split of ln 2: the high part has few significant bits, so n * Ln2Hi is exact for |n| <= 128.
    private const float Log2E = 1.44269504088896341f;
    private const float Ln2Hi = 0.693359375f;
    private const float Ln2Lo = -2.12194440e-4f;
    private const float ExpMaxInput = 88.0f;          // exp(88) ~ 1.65e38 < float.MaxValue
    private const float ExpMinInput = -87.33654475f;  // ln(2^-126): below this the result is flushed to 0

    /// <summary>
    /// exp for 8 floats: range reduction x = n ln2 + r with |r| &lt;= ln2/2, then the degree-7 Taylor polynomial of e^r
    /// (truncation error &lt; 6e-9, below float precision) and 2^n built in the exponent bits. About 2 ulp; results
    /// below 2^-126 are flushed to 0; -inf gives 0, NaN gives NaN. Uses fused multiply-adds (single rounding, so the
    /// same results wherever FMA is exact); about twice as fast as the runtime's Vector256.Exp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        var lo = Vector256.Create(ExpMinInput);
        // MinNative/MaxNative: plain vminps/vmaxps (NaN is restored by the final select).
        var xc = Vector256.MinNative(Vector256.MaxNative(x, lo), Vector256.Create(ExpMaxInput));
        var n = Vector256.Round(xc * Vector256.Create(Log2E));
        var r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Hi), xc);
        r = Vector256.FusedMultiplyAdd(n, Vector256.Create(-Ln2Lo), r);
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(1f / 5040f), r, Vector256.Create(1f / 720f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 120f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 24f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(1f / 6f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(0.5f));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        p = Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
        var scale = Vector256.ShiftLeft(Vector256.ConvertToInt32Native(n) + Vector256.Create(127), 23).AsSingle();
        var result = p * scale;
        result = Vector256.ConditionalSelect(Vector256.LessThan(x, lo), Vector256<float>.Zero, result);
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), result, x);
    }

    /// <summary>Scalar <see cref="Exp(Vector256{float})"/>, bit-identical to the vector lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x) => Exp(Vector256.Create(x)).ToScalar();

    /// <summary>Index of the first element equal to <paramref name="value"/>, or -1.</summary>
    public static int IndexOfFirstEqual(ReadOnlySpan<float> x, float value)
    {
        ref float r = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        var v = Vector256.Create(value);
        for (; i <= n - W; i += W)
        {
            uint bits = Vector256.Equals(Vector256.LoadUnsafe(ref r, (nuint)i), v).ExtractMostSignificantBits();
            if (bits != 0) return i + BitOperations.TrailingZeroCount(bits);
        }
        for (; i < n; i++)
            if (x[i] == value) return i;
        return -1;
    }

    /// <summary>Argmax with ties broken towards the lowest index. NaN logits are rejected.</summary>
    public static int ArgMax(ReadOnlySpan<float> x)
    {
        float m = Max(x);
        if (float.IsNaN(m)) throw new ArgumentException("Logits contain NaN.", nameof(x));
        return IndexOfFirstEqual(x, m);
    }

    public static void Scale(Span<float> x, float factor)
    {
        ref float r = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        var f = Vector256.Create(factor);
        for (; i <= n - W; i += W)
            (Vector256.LoadUnsafe(ref r, (nuint)i) * f).StoreUnsafe(ref r, (nuint)i);
        for (; i < n; i++) x[i] *= factor;
    }

    /// <summary>Sets every element below <paramref name="threshold"/> to -inf.</summary>
    public static void MaskBelow(Span<float> x, float threshold)
    {
        ref float r = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        var t = Vector256.Create(threshold);
        var ninf = Vector256.Create(float.NegativeInfinity);
        for (; i <= n - W; i += W)
        {
            var v = Vector256.LoadUnsafe(ref r, (nuint)i);
            var lt = Vector256.LessThan(v, t);
            if (lt != Vector256<float>.Zero)
                Vector256.ConditionalSelect(lt, ninf, v).StoreUnsafe(ref r, (nuint)i);
        }
        for (; i < n; i++)
            if (x[i] < threshold) x[i] = float.NegativeInfinity;
    }

    /// <summary>Number of elements &gt;= <paramref name="value"/>.</summary>
    public static int CountGreaterOrEqual(ReadOnlySpan<float> x, float value)
    {
        ref float r = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0, count = 0;
        var v = Vector256.Create(value);
        for (; i <= n - W; i += W)
            count += BitOperations.PopCount(Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref r, (nuint)i), v).ExtractMostSignificantBits());
        for (; i < n; i++)
            if (x[i] >= value) count++;
        return count;
    }

    /// <summary>
    /// Sum of exp(x[i] - shift). Lanes accumulate in float within blocks of <see cref="BlockSize"/> elements and the
    /// block sums in double, which keeps the relative error near 1e-7 even for very long vectors.
    /// </summary>
    public static double SumExp(ReadOnlySpan<float> x, float shift)
    {
        ref float r = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0;
        var s = Vector256.Create(shift);
        double sum = 0;
        // One accumulator: exp's own work hides the add latency, and fewer live vectors avoid register spills.
        while (i <= n - W)
        {
            int blockEnd = Math.Min(n, i + BlockSize);
            var acc = Vector256<float>.Zero;
            for (; i <= blockEnd - W; i += W)
                acc += Exp(Vector256.LoadUnsafe(ref r, (nuint)i) - s);
            sum += HorizontalSum(acc);
        }
        for (; i < n; i++) sum += Exp(x[i] - shift);
        return sum;
    }

    /// <summary>Block size used by <see cref="ExpWithBlockSums"/>.</summary>
    public const int BlockSize = 512;

    /// <summary>
    /// dst[i] = exp(x[i] - shift); blockSums[b] = sum of dst over block b (of <see cref="BlockSize"/> elements).
    /// Returns the total. Lets a draw find its token in O(n / BlockSize + BlockSize) after one vector pass.
    /// </summary>
    public static double ExpWithBlockSums(ReadOnlySpan<float> x, float shift, Span<float> dst, Span<double> blockSums)
    {
        int n = x.Length;
        ref float r = ref MemoryMarshal.GetReference(x);
        ref float d = ref MemoryMarshal.GetReference(dst);
        var s = Vector256.Create(shift);
        double total = 0;
        int b = 0;
        for (int start = 0; start < n; start += BlockSize, b++)
        {
            int end = Math.Min(start + BlockSize, n);
            int i = start;
            var acc = Vector256<float>.Zero;
            for (; i <= end - W; i += W)
            {
                var e = Exp(Vector256.LoadUnsafe(ref r, (nuint)i) - s);
                e.StoreUnsafe(ref d, (nuint)i);
                acc += e;
            }
            double bs = HorizontalSum(acc);
            for (; i < end; i++)
            {
                float e = Exp(x[i] - shift);
                dst[i] = e;
                bs += e;
            }
            blockSums[b] = bs;
            total += bs;
        }
        return total;
    }

    /// <summary>
    /// The <paramref name="k"/> best elements (largest value, ties to the lowest index), excluding -inf and NaN,
    /// written to <paramref name="result"/>[0..count) sorted best first. Uses a bounded min-heap and skips whole
    /// vectors that cannot enter it, so the cost is about one vector pass for small k.
    /// </summary>
    public static int SelectTop(ReadOnlySpan<float> x, int k, Span<Candidate> result)
    {
        if (k <= 0) return 0;
        if (result.Length < k) throw new ArgumentException("Result buffer too small.", nameof(result));
        ref float r = ref MemoryMarshal.GetReference(x);
        int n = x.Length, i = 0, size = 0;
        float threshold = float.NegativeInfinity; // an element must be > threshold to enter
        Span<Candidate> heap = result[..k];
        for (; i <= n - W; i += W)
        {
            uint bits = Vector256.GreaterThan(Vector256.LoadUnsafe(ref r, (nuint)i), Vector256.Create(threshold)).ExtractMostSignificantBits();
            while (bits != 0)
            {
                int j = i + BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                float v = x[j];
                if (v > threshold)
                    threshold = Offer(heap, ref size, k, v, j);
            }
        }
        for (; i < n; i++)
        {
            float v = x[i];
            if (v > threshold)
                threshold = Offer(heap, ref size, k, v, i);
        }
        heap[..size].Sort(new DescendingCandidateComparer());
        return size;
    }

    // Min-heap on "worse first" order (smaller logit, then larger id). Returns the new entry threshold.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Offer(Span<Candidate> heap, ref int size, int k, float v, int id)
    {
        var c = new Candidate(v, id);
        if (size < k)
        {
            int pos = size++;
            while (pos > 0)
            {
                int parent = (pos - 1) >> 1;
                if (!Candidate.Better(heap[parent], c)) break; // parent is worse-or-equal: stop
                heap[pos] = heap[parent];
                pos = parent;
            }
            heap[pos] = c;
            return size < k ? float.NegativeInfinity : heap[0].Logit;
        }
        // Full: ids arrive in increasing order, so equal logits never displace the root (v > threshold checked).
        int p = 0;
        while (true)
        {
            int child = 2 * p + 1;
            if (child >= k) break;
            if (child + 1 < k && Candidate.Better(heap[child], heap[child + 1])) child++; // pick the worse child
            if (!Candidate.Better(c, heap[child])) break;
            heap[p] = heap[child];
            p = child;
        }
        heap[p] = c;
        return heap[0].Logit;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static double HorizontalSum(Vector256<float> v)
    {
        // Fixed pairwise order so the result does not depend on the platform.
        var lo = v.GetLower();
        var hi = v.GetUpper();
        var s = lo + hi;
        return ((double)s[0] + s[2]) + ((double)s[1] + s[3]);
    }
}
