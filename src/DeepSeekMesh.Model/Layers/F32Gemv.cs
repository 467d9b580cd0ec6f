using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DeepSeekMesh.Model.Inference;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// y = x Wᵀ for a few fp32 rows against a large fp32 weight (the lm_head: [vocab, hidden]). Decode
/// reads every weight once per step, so a GEMV is bound by memory; libtorch's CPU f32 GEMV streams
/// the 530 MB lm_head of <c>small</c> at about half the bandwidth a plain sum reaches. This kernel
/// (AVX2 + FMA) reads each weight row once for all input rows (one row: four weight rows at a
/// time, four streams for the prefetchers; more: two weight rows against four input rows, each
/// weight load used four times), split into contiguous output tiles across the cores. Each dot product sums in the same order whatever the tiling, so results do not depend on
/// the thread count. Same shape as <see cref="Bf16Gemv"/>, with fp32 loads instead of widening.
/// </summary>
public static class F32Gemv
{
    /// <summary>Rows up to which the kernel beats libtorch's GEMM (each row re-uses the loaded weights).</summary>
    public const int MaxRows = 16;

    /// <summary>Below this many weights (32 MB of fp32) libtorch's own GEMV is as fast and wakes no pool threads.</summary>
    public const long MinElements = 8L << 20;

    /// <summary>Output tiles per core: with more tiles than cores, a core that another process delays costs less.</summary>
    const int TilesPerCore = 8;

    public static bool Supported => Avx2.IsSupported && Fma.IsSupported;

    public static bool Applies(Tensor x, Tensor weight) =>
        Supported && weight.dtype == ScalarType.Float32 && x.dtype == ScalarType.Float32
        && x.device_type == TorchSharp.DeviceType.CPU && weight.device_type == TorchSharp.DeviceType.CPU
        && x.dim() == 2 && x.shape[0] <= MaxRows && weight.is_contiguous() && weight.numel() >= MinElements;

    public static unsafe Tensor Forward(Tensor x, Tensor weight) // [n, in] f32, [out, in] f32 -> [n, out] f32
    {
        using var input = x.is_contiguous() ? x.alias() : x.contiguous();
        int n = (int)input.shape[0], inFeatures = (int)input.shape[1], outFeatures = (int)weight.shape[0];
        if (weight.shape[1] != inFeatures) throw new ArgumentException($"input has {inFeatures} features, the weight takes {weight.shape[1]}");
        var y = empty([n, outFeatures], ScalarType.Float32);
        var job = new Job((float*)TensorData.Pointer(input), (float*)TensorData.Pointer(weight), (float*)TensorData.Pointer(y), n, inFeatures, outFeatures);
        int parts = Math.Min(Environment.ProcessorCount * TilesPerCore, Math.Max(1, outFeatures / 256)); // spare tiles: a core that gets ahead takes them
        if (parts == 1) job.Run(0, outFeatures);
        else Parallel.For(0, parts, p => job.Run(outFeatures * p / parts, outFeatures * (p + 1) / parts));
        return y;
    }

    readonly unsafe struct Job(float* x, float* w, float* y, int n, int inFeatures, int outFeatures)
    {
        readonly float* _x = x;
        readonly float* _w = w;
        readonly float* _y = y;

        public void Run(int from, int to)
        {
            int o = from;
            if (n == 1)
                for (; o + 4 <= to; o += 4) Dot4x1(o);
            else
                for (; o + 2 <= to; o += 2)
                    for (int r = 0; r < n; r += 4) Dot2x4(o, r);
            for (; o < to; o++)
                for (int r = 0; r < n; r++) _y[(long)r * outFeatures + o] = Dot(_w + (long)o * inFeatures, _x + (long)r * inFeatures, inFeatures);
        }

        /// <summary>The one input row against weight rows o..o+3: four streams, one accumulator each.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Dot4x1(int o)
        {
            float* w0 = _w + (long)o * inFeatures, w1 = w0 + inFeatures, w2 = w1 + inFeatures, w3 = w2 + inFeatures;
            Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i + 8 <= inFeatures; i += 8)
            {
                var xv = Avx.LoadVector256(_x + i);
                a0 = Fma.MultiplyAdd(Avx.LoadVector256(w0 + i), xv, a0);
                a1 = Fma.MultiplyAdd(Avx.LoadVector256(w1 + i), xv, a1);
                a2 = Fma.MultiplyAdd(Avx.LoadVector256(w2 + i), xv, a2);
                a3 = Fma.MultiplyAdd(Avx.LoadVector256(w3 + i), xv, a3);
            }
            _y[o] = Finish(a0, w0, _x, i);
            _y[o + 1] = Finish(a1, w1, _x, i);
            _y[o + 2] = Finish(a2, w2, _x, i);
            _y[o + 3] = Finish(a3, w3, _x, i);
        }

        /// <summary>Input rows r..r+3 (the last repeated past n) against weight rows o, o+1: eight accumulators, each weight load used four times.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Dot2x4(int o, int r)
        {
            float* w0 = _w + (long)o * inFeatures, w1 = w0 + inFeatures;
            float* x0 = Row(r), x1 = Row(r + 1), x2 = Row(r + 2), x3 = Row(r + 3);
            Vector256<float> a00 = Vector256<float>.Zero, a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            int i = 0;
            for (; i + 8 <= inFeatures; i += 8)
            {
                var v0 = Avx.LoadVector256(w0 + i);
                var v1 = Avx.LoadVector256(w1 + i);
                var x = Avx.LoadVector256(x0 + i);
                a00 = Fma.MultiplyAdd(v0, x, a00);
                a10 = Fma.MultiplyAdd(v1, x, a10);
                x = Avx.LoadVector256(x1 + i);
                a01 = Fma.MultiplyAdd(v0, x, a01);
                a11 = Fma.MultiplyAdd(v1, x, a11);
                x = Avx.LoadVector256(x2 + i);
                a02 = Fma.MultiplyAdd(v0, x, a02);
                a12 = Fma.MultiplyAdd(v1, x, a12);
                x = Avx.LoadVector256(x3 + i);
                a03 = Fma.MultiplyAdd(v0, x, a03);
                a13 = Fma.MultiplyAdd(v1, x, a13);
            }
            Store(r, o, Finish(a00, w0, x0, i), Finish(a10, w1, x0, i));
            if (r + 1 < n) Store(r + 1, o, Finish(a01, w0, x1, i), Finish(a11, w1, x1, i));
            if (r + 2 < n) Store(r + 2, o, Finish(a02, w0, x2, i), Finish(a12, w1, x2, i));
            if (r + 3 < n) Store(r + 3, o, Finish(a03, w0, x3, i), Finish(a13, w1, x3, i));
        }

        float* Row(int r) => _x + (long)Math.Min(r, n - 1) * inFeatures;

        void Store(int r, int o, float y0, float y1)
        {
            _y[(long)r * outFeatures + o] = y0;
            _y[(long)r * outFeatures + o + 1] = y1;
        }

        /// <summary>The accumulator's lanes summed, then the elements past the last full vector.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        float Finish(Vector256<float> acc, float* w, float* x, int i)
        {
            float sum = Vector256.Sum(acc);
            for (; i < inFeatures; i++) sum += w[i] * x[i];
            return sum;
        }

        /// <summary>The same sum, in the same order, for one weight row (the tile's tail).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static float Dot(float* w, float* x, int length)
        {
            var acc = Vector256<float>.Zero;
            int i = 0;
            for (; i + 8 <= length; i += 8) acc = Fma.MultiplyAdd(Avx.LoadVector256(w + i), Avx.LoadVector256(x + i), acc);
            float sum = Vector256.Sum(acc);
            for (; i < length; i++) sum += w[i] * x[i];
            return sum;
        }
    }
}
