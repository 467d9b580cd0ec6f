using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace DeepSeekMesh.Sampling.Bench;

/// <summary>Stand-alone kernels for the --kernels mode (the library's are internal).</summary>
internal static class Probe
{
    public static float Max(ReadOnlySpan<float> x)
    {
        var m = Vector256.Create(float.NegativeInfinity);
        ref float r = ref MemoryMarshal.GetReference(x);
        int i = 0;
        for (; i <= x.Length - 8; i += 8) m = Vector256.Max(m, Vector256.LoadUnsafe(ref r, (nuint)i));
        float s = float.NegativeInfinity;
        for (int l = 0; l < 8; l++) s = MathF.Max(s, m[l]);
        return s;
    }

    public static float SumExpRuntime(ReadOnlySpan<float> x)
    {
        var a = Vector256<float>.Zero;
        var sh = Vector256.Create(20f);
        ref float r = ref MemoryMarshal.GetReference(x);
        for (int i = 0; i <= x.Length - 8; i += 8) a += Vector256.Exp(Vector256.LoadUnsafe(ref r, (nuint)i) - sh);
        return Vector256.Sum(a);
    }

    public static float SumExp(ReadOnlySpan<float> x)
    {
        // Same public pipeline the sampler uses for raw logprobs.
        var (lp, _, _) = Sampler.ComputeLogprobs(x, 0, 0);
        return lp;
    }
}
