using System.Runtime.CompilerServices;
using DeepSeekMesh.Model.Inference;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// y = x Wᵀ for a few fp32 rows against bf16 weights, widening each weight to fp32 in registers.
/// Decode is a GEMV that reads every weight once: with bf16 storage it should cost half the memory
/// traffic of fp32, but libtorch's CPU bf16 kernels run at ~20 GFLOP/s on CPUs without AVX-512-BF16,
/// slower than memory on large matrices. This kernel (AVX2 + FMA) streams them at memory speed
/// instead; small ones (an expert's) stay with libtorch, whose bf16 GEMV is as fast there.
/// </summary>
public static class Bf16Gemv
{
    /// <summary>Rows up to which the kernel beats libtorch (each row re-uses the widened weights).</summary>
    public const int MaxRows = 4;

    public static bool Supported => Avx2.IsSupported && Fma.IsSupported;

    public static bool Applies(Tensor x, Tensor weight) =>
        Supported && weight.dtype == ScalarType.BFloat16 && x.dtype == ScalarType.Float32
        && x.device_type == TorchSharp.DeviceType.CPU && x.dim() == 2 && x.shape[0] <= MaxRows && weight.is_contiguous()
        && weight.numel() >= MinElements;

    /// <summary>Below this many weights (8 MB of bf16) libtorch's own bf16 GEMV is as fast (measured: 1024×1024, 1024×512).</summary>
    public const long MinElements = 4L << 20;

    public static unsafe Tensor Forward(Tensor x, Tensor weight) // [n, in] f32, [out, in] bf16 -> [n, out] f32
    {
        using var input = x.is_contiguous() ? x.alias() : x.contiguous();
        int n = (int)input.shape[0], inFeatures = (int)input.shape[1], outFeatures = (int)weight.shape[0];
        var y = empty([n, outFeatures], ScalarType.Float32);
        // Data pointers, not Tensor.bytes: a weight may be over 2 GB (DeepSeek-V3's lm_head in f32 is 3.7 GB).
        var job = new Job((float*)TensorData.Pointer(input), (ushort*)TensorData.Pointer(weight), (float*)TensorData.Pointer(y), n, inFeatures, outFeatures);
        int parts = Math.Min(Environment.ProcessorCount, Math.Max(1, outFeatures / 256));
        if (parts == 1) job.Run(0, outFeatures);
        else Parallel.For(0, parts, p => job.Run(outFeatures * p / parts, outFeatures * (p + 1) / parts));
        return y;
    }

    readonly unsafe struct Job(float* x, ushort* w, float* y, int n, int inFeatures, int outFeatures)
    {
        readonly float* _x = x;
        readonly ushort* _w = w;
        readonly float* _y = y;

        public void Run(int from, int to)
        {
            for (int o = from; o < to; o++)
            {
                ushort* row = _w + (long)o * inFeatures;
                for (int r = 0; r < n; r++)
                    _y[(long)r * outFeatures + o] = Dot(row, _x + (long)r * inFeatures, inFeatures);
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static float Dot(ushort* w, float* x, int length)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            int i = 0;
            for (; i + 16 <= length; i += 16)
            {
                acc0 = Fma.MultiplyAdd(Widen(w + i), Avx.LoadVector256(x + i), acc0);
                acc1 = Fma.MultiplyAdd(Widen(w + i + 8), Avx.LoadVector256(x + i + 8), acc1);
            }
            float sum = Vector256.Sum(acc0 + acc1);
            for (; i < length; i++) sum += BitConverter.Int32BitsToSingle(w[i] << 16) * x[i];
            return sum;
        }

        /// <summary>8 bf16 → 8 fp32: zero-extend to 32 bits and shift into the high half.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static Vector256<float> Widen(ushort* w) =>
            Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Sse2.LoadVector128(w)), 16).AsSingle();
    }
}
