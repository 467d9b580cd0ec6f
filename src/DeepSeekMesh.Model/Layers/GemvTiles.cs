using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DeepSeekMesh.Model.Layers;

/// <summary>How a few-row kernel reads 8 weights of a row as fp32 (f32, bf16, FP8 codes).</summary>
unsafe interface IWeightFormat
{
    static abstract Vector256<float> Load8(byte* row, int i);
}

/// <summary>The eight accumulators of a 2×4 tile: two weight rows against four input rows.</summary>
struct Accumulators2x4
{
    public Vector256<float> A00, A01, A02, A03, A10, A11, A12, A13;
}

/// <summary>
/// What <see cref="DenseGemv"/> and <see cref="Fp8Gemv"/> share: how the output rows of a group of
/// products split into tiles for the pool, and the 2×4 tile's inner loop.
/// </summary>
static unsafe class GemvTiles
{
    /// <summary>Output tiles per core: with more tiles than cores, a core that another process delays costs less.</summary>
    const int TilesPerCore = 8;

    /// <summary>Weight elements below which a group runs on the calling thread alone.</summary>
    public const long MinElementsPerTile = 256L << 10;

    /// <summary>
    /// Splits the output rows of products [Out_i, In_i] (one parallel loop for all of them) into tiles of
    /// about equal weight elements, and runs <paramref name="rows"/>(product, first, last) for each
    /// product's share of each tile.
    /// </summary>
    public static void Run(int count, Func<int, (int Out, int In)> shape, Action<int, int, int> rows)
    {
        long total = 0;
        var start = new long[count + 1]; // weight elements before each product
        for (int i = 0; i < count; i++)
        {
            var (o, n) = shape(i);
            start[i + 1] = total += (long)o * n;
        }
        int parts = (int)Math.Clamp(total / MinElementsPerTile, 1, Environment.ProcessorCount * TilesPerCore);
        if (parts == 1) Range(0, total);
        else Parallel.For(0, parts, p => Range(total * p / parts, total * (p + 1) / parts));

        void Range(long from, long to) // the output rows whose weights begin in elements [from, to)
        {
            for (int i = 0; i < count; i++)
            {
                if (start[i + 1] <= from || start[i] >= to) continue;
                int inFeatures = shape(i).In;
                int first = (int)((Math.Max(from, start[i]) - start[i] + inFeatures - 1) / inFeatures);
                int last = (int)((Math.Min(to, start[i + 1]) - start[i] + inFeatures - 1) / inFeatures);
                rows(i, first, last);
            }
        }
    }

    /// <summary>Columns [from, to) (whole vectors) of weight rows w0, w1 against input rows x0..x3, added lane-wise to <paramref name="a"/>; each weight load used four times.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Accumulate2x4<T>(byte* w0, byte* w1, float* x0, float* x1, float* x2, float* x3, int from, int to, ref Accumulators2x4 a)
        where T : struct, IWeightFormat
    {
        Vector256<float> a00 = a.A00, a01 = a.A01, a02 = a.A02, a03 = a.A03, a10 = a.A10, a11 = a.A11, a12 = a.A12, a13 = a.A13;
        for (int c = from; c < to; c += 8)
        {
            var v0 = T.Load8(w0, c);
            var v1 = T.Load8(w1, c);
            var x = Avx.LoadVector256(x0 + c);
            a00 = Fma.MultiplyAdd(v0, x, a00);
            a10 = Fma.MultiplyAdd(v1, x, a10);
            x = Avx.LoadVector256(x1 + c);
            a01 = Fma.MultiplyAdd(v0, x, a01);
            a11 = Fma.MultiplyAdd(v1, x, a11);
            x = Avx.LoadVector256(x2 + c);
            a02 = Fma.MultiplyAdd(v0, x, a02);
            a12 = Fma.MultiplyAdd(v1, x, a12);
            x = Avx.LoadVector256(x3 + c);
            a03 = Fma.MultiplyAdd(v0, x, a03);
            a13 = Fma.MultiplyAdd(v1, x, a13);
        }
        a = new Accumulators2x4 { A00 = a00, A01 = a01, A02 = a02, A03 = a03, A10 = a10, A11 = a11, A12 = a12, A13 = a13 };
    }
}
