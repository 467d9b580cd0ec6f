using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// y = x Wᵀ for a few fp32 rows against FP8 E4M3 weights with per-block f32 scales, dequantizing
/// in registers (AVX2 + FMA): each weight byte is read once, widened to fp32 by exponent rebias,
/// accumulated per scale block and the block's sum multiplied by its scale. Several products (the
/// routed experts of one layer) run as one parallel loop over all their output rows.
/// </summary>
/// <remarks>
/// Rebias: sign-extend the byte to 32 bits and shift it left by 20, so e4m3's sign lands on fp32's
/// sign bit and its 4 exponent and 3 mantissa bits on the low exponent and top mantissa bits.
/// Adding 120 to the exponent field (7 → 127 bias) gives every normal code's value exactly. A
/// subnormal code (exponent 0: m·2⁻³·2⁻⁶) is read with exponent 1 instead, (1 + m·2⁻³)·2⁻⁶, and
/// 2⁻⁶ subtracted (exact). The sign bit is put back, the two NaN codes (S.1111.111) set to
/// all-ones. No step makes an fp32 subnormal (multiplying by 2¹²⁰ instead would: 10× slower here).
/// Tested for all 256 codes.
/// </remarks>
public static unsafe class Fp8Gemv
{
    /// <summary>Rows up to which the kernel runs; more rows (prefill) dequantize the weight once and use libtorch's GEMM.</summary>
    public const int MaxRows = 8;

    public static bool Supported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>True when <paramref name="x"/> [n, in] can go through the kernel.</summary>
    public static bool Applies(Tensor x) =>
        Supported && x.dtype == ScalarType.Float32 && x.device_type == TorchSharp.DeviceType.CPU && x.dim() == 2 && x.shape[0] <= MaxRows;

    const int Magnitude = 0x07F00000, Exponent = 0x07800000, Sign = unchecked((int)0x80000000);
    const int Rebias = 120 << 23;           // e4m3 exponent bias 7 → fp32's 127
    const int Implicit = 1 << 23;           // exponent field 0 → 1, so subnormals go through the normal path
    const int Subnormal = 121 << 23;        // 2⁻⁶ as fp32 bits: what that adds, subtracted again

    /// <summary>One e4m3 byte's value (the kernel's rebias, one element at a time).</summary>
    public static float ToFloat(byte code)
    {
        int shifted = (sbyte)code << 20, magnitude = shifted & Magnitude;
        if (magnitude == Magnitude) return float.NaN;
        bool subnormal = (magnitude & Exponent) == 0;
        float value = BitConverter.Int32BitsToSingle(magnitude + Rebias + (subnormal ? Implicit : 0)) - (subnormal ? BitConverter.Int32BitsToSingle(Subnormal) : 0f);
        return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(value) | (shifted & Sign));
    }

    /// <summary>8 e4m3 bytes → 8 fp32 values, with integer ops and one subtraction (no fp32 subnormal ever appears: they are slow).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Widen(byte* codes)
    {
        var shifted = Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32((sbyte*)codes), 20);
        var magnitude = Avx2.And(shifted, Vector256.Create(Magnitude));
        var subnormal = Avx2.CompareEqual(Avx2.And(magnitude, Vector256.Create(Exponent)), Vector256<int>.Zero);
        var normal = Avx2.Add(Avx2.Add(magnitude, Vector256.Create(Rebias)), Avx2.And(subnormal, Vector256.Create(Implicit)));
        var value = Avx.Subtract(normal.AsSingle(), Avx2.And(subnormal, Vector256.Create(Subnormal)).AsSingle());
        var nan = Avx2.CompareEqual(magnitude, Vector256.Create(Magnitude));
        return Avx2.Or(Avx2.Or(value.AsInt32(), Avx2.And(shifted, Vector256.Create(Sign))), nan).AsSingle();
    }

    /// <summary>y [Rows, Out] = x [Rows, In] · (codes [Out, In] × block scales)ᵀ; row o's scales are row ScaleRow[o] of Scales [·, ScaleCols].</summary>
    public readonly struct Product(byte* codes, float* scales, int* scaleRow, int scaleCols, int blockCols, float* x, float* y, int rows, int outFeatures, int inFeatures)
    {
        public readonly byte* Codes = codes;
        public readonly float* Scales = scales;
        public readonly int* ScaleRow = scaleRow;
        public readonly int ScaleCols = scaleCols, BlockCols = blockCols;
        public readonly float* X = x, Y = y;
        public readonly int Rows = rows, Out = outFeatures, In = inFeatures;
    }

    /// <summary>Runs every product, one parallel loop over all their output rows (split by weight bytes).</summary>
    public static void Run(Product[] products)
    {
        long total = 0;
        var start = new long[products.Length + 1]; // weight bytes before each product
        for (int i = 0; i < products.Length; i++) start[i + 1] = total += (long)products[i].Out * products[i].In;
        int parts = (int)Math.Clamp(total / (256L << 10), 1, Environment.ProcessorCount);
        if (parts == 1) RunRange(products, start, 0, total);
        else Parallel.For(0, parts, p => RunRange(products, start, total * p / parts, total * (p + 1) / parts));
    }

    /// <summary>The output rows whose weights begin in bytes [from, to) of the concatenated products.</summary>
    static void RunRange(Product[] products, long[] start, long from, long to)
    {
        float* buffer = stackalloc float[products.Length == 0 ? 1 : products.Max(p => p.BlockCols)];
        for (int i = 0; i < products.Length; i++)
        {
            if (start[i + 1] <= from || start[i] >= to) continue;
            ref readonly var p = ref products[i];
            int first = (int)((Math.Max(from, start[i]) - start[i] + p.In - 1) / p.In);
            int last = (int)((Math.Min(to, start[i + 1]) - start[i] + p.In - 1) / p.In);
            for (int o = first; o < last; o++)
            {
                byte* w = p.Codes + (long)o * p.In;
                float* s = p.Scales + (long)p.ScaleRow[o] * p.ScaleCols;
                if (p.Rows == 1) p.Y[o] = Dot(w, s, p.X, p.In, p.BlockCols);
                else DotRows(w, s, p.X, p.Y + o, p.Rows, p.In, p.Out, p.BlockCols, buffer);
            }
        }
    }

    /// <summary>One output: Σ_blocks scale_b · Σ_{c in b} w_c x_c.</summary>
    static float Dot(byte* w, float* scales, float* x, int length, int blockCols)
    {
        var total = Vector256<float>.Zero;
        float tail = 0;
        for (int c0 = 0, b = 0; c0 < length; c0 += blockCols, b++)
        {
            int end = Math.Min(c0 + blockCols, length), c = c0;
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; c + 16 <= end; c += 16)
            {
                acc0 = Fma.MultiplyAdd(Widen(w + c), Avx.LoadVector256(x + c), acc0);
                acc1 = Fma.MultiplyAdd(Widen(w + c + 8), Avx.LoadVector256(x + c + 8), acc1);
            }
            for (; c + 8 <= end; c += 8) acc0 = Fma.MultiplyAdd(Widen(w + c), Avx.LoadVector256(x + c), acc0);
            float rest = 0;
            for (; c < end; c++) rest += ToFloat(w[c]) * x[c];
            total = Fma.MultiplyAdd(acc0 + acc1, Vector256.Create(scales[b]), total);
            tail += rest * scales[b];
        }
        return Vector256.Sum(total) + tail;
    }

    /// <summary>One output column for n rows: each block is widened and scaled once into <paramref name="buffer"/>, then dotted with every row.</summary>
    static void DotRows(byte* w, float* scales, float* x, float* y, int n, int length, int outFeatures, int blockCols, float* buffer)
    {
        for (int r = 0; r < n; r++) y[(long)r * outFeatures] = 0;
        for (int c0 = 0, b = 0; c0 < length; c0 += blockCols, b++)
        {
            int width = Math.Min(blockCols, length - c0);
            Widen(w + c0, scales[b], buffer, width);
            for (int r = 0; r < n; r++)
            {
                float* xr = x + (long)r * length + c0;
                var acc = Vector256<float>.Zero;
                int c = 0;
                for (; c + 8 <= width; c += 8) acc = Fma.MultiplyAdd(Avx.LoadVector256(buffer + c), Avx.LoadVector256(xr + c), acc);
                float sum = Vector256.Sum(acc);
                for (; c < width; c++) sum += buffer[c] * xr[c];
                y[(long)r * outFeatures] += sum;
            }
        }
    }

    /// <summary>count codes × scale → fp32.</summary>
    static void Widen(byte* codes, float scale, float* destination, int count)
    {
        var s = Vector256.Create(scale);
        int c = 0;
        for (; c + 8 <= count; c += 8) Avx.Store(destination + c, Avx.Multiply(Widen(codes + c), s));
        for (; c < count; c++) destination[c] = ToFloat(codes[c]) * scale;
    }

    /// <summary>Dequantizes codes [rows, cols] into fp32 (parallel over rows).</summary>
    public static void Dequantize(byte* codes, float* scales, int* scaleRow, int scaleCols, int blockCols, int rows, int cols, float* destination) =>
        ForRows(rows, cols, o =>
        {
            float* s = scales + (long)scaleRow[o] * scaleCols;
            for (int c0 = 0, b = 0; c0 < cols; c0 += blockCols, b++)
                Widen(codes + (long)o * cols + c0, s[b], destination + (long)o * cols + c0, Math.Min(blockCols, cols - c0));
        });

    /// <summary>Dequantizes codes [rows, cols] into bf16 (rounded to nearest even), one fp32 block at a time on the stack: no fp32 copy of the matrix.</summary>
    public static void DequantizeBf16(byte* codes, float* scales, int* scaleRow, int scaleCols, int blockCols, int rows, int cols, ushort* destination) =>
        ForRows(rows, cols, o =>
        {
            float* s = scales + (long)scaleRow[o] * scaleCols;
            float* block = stackalloc float[blockCols];
            for (int c0 = 0, b = 0; c0 < cols; c0 += blockCols, b++)
            {
                int width = Math.Min(blockCols, cols - c0);
                Widen(codes + (long)o * cols + c0, s[b], block, width);
                Weights.Bf16Conversion.Narrow(block, destination + (long)o * cols + c0, width);
            }
        });

    static void ForRows(int rows, int cols, Action<int> row)
    {
        int parts = (int)Math.Clamp((long)rows * cols / (1L << 20), 1, Environment.ProcessorCount);
        if (parts == 1)
        {
            for (int o = 0; o < rows; o++) row(o);
            return;
        }
        Parallel.For(0, parts, p =>
        {
            for (int o = rows * p / parts, end = rows * (p + 1) / parts; o < end; o++) row(o);
        });
    }
}
