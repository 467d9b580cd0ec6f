namespace DeepSeekMesh.Sampling.Tests;

internal static class TestUtil
{
    /// <summary>Log-softmax in double precision (reference).</summary>
    public static double[] LogSoftmax(ReadOnlySpan<float> logits, double temperature = 1.0)
    {
        double max = double.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l / temperature);
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l / temperature - max);
        double lse = max + Math.Log(sum);
        var r = new double[logits.Length];
        for (int i = 0; i < r.Length; i++) r[i] = logits[i] / temperature - lse;
        return r;
    }

    public static double[] Softmax(ReadOnlySpan<float> logits, double temperature = 1.0)
    {
        var r = LogSoftmax(logits, temperature);
        for (int i = 0; i < r.Length; i++) r[i] = Math.Exp(r[i]);
        return r;
    }

    /// <summary>Random logits in [lo, hi) from a seeded generator.</summary>
    public static float[] RandomLogits(int n, int seed, float lo = -5f, float hi = 5f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + (float)rng.NextDouble() * (hi - lo);
        return x;
    }

    /// <summary>Model-like logits: Gaussian bulk plus a few strong tokens.</summary>
    public static float[] ModelLikeLogits(int n, int seed)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i] = (float)(2.5 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        for (int j = 0; j < 20; j++) x[rng.Next(n)] += 8f + (float)rng.NextDouble() * 6f;
        return x;
    }

    /// <summary>Draws <paramref name="draws"/> tokens with the same logits and counts them.</summary>
    public static int[] Histogram(SamplingParams p, float[] logits, int draws)
    {
        var sampler = new Sampler(p, logits.Length);
        var counts = new int[logits.Length];
        for (int i = 0; i < draws; i++) counts[sampler.Sample(logits).TokenId]++;
        return counts;
    }

    /// <summary>Pearson chi-square statistic of observed counts against expected probabilities (cells with p = 0 must be empty).</summary>
    public static double ChiSquare(int[] observed, double[] probs, out int degreesOfFreedom)
    {
        long n = 0;
        foreach (int o in observed) n += o;
        double chi2 = 0;
        int cells = 0;
        for (int i = 0; i < observed.Length; i++)
        {
            double e = probs[i] * n;
            if (e == 0)
            {
                Assert.Equal(0, observed[i]);
                continue;
            }
            cells++;
            chi2 += (observed[i] - e) * (observed[i] - e) / e;
        }
        degreesOfFreedom = cells - 1;
        return chi2;
    }

    /// <summary>Upper bound for chi-square with df degrees of freedom, about the 0.9999 quantile (Wilson-Hilferty, z = 3.72).</summary>
    public static double ChiSquareBound(int df)
    {
        const double z = 3.72;
        double a = 2.0 / (9.0 * df);
        double c = 1 - a + z * Math.Sqrt(a);
        return df * c * c * c;
    }

    public static int[] SortedIdsDescending(ReadOnlySpan<float> logits)
    {
        var ids = new int[logits.Length];
        for (int i = 0; i < ids.Length; i++) ids[i] = i;
        var copy = logits.ToArray();
        Array.Sort(ids, (a, b) => copy[a] != copy[b] ? copy[b].CompareTo(copy[a]) : a.CompareTo(b));
        return ids;
    }
}
