using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// y = x Wᵀ for a few fp32 rows against FP8 E4M3 weights with per-block f32 scales, dequantizing
/// in registers (AVX2 + FMA): each weight byte is read once, widened to fp32 by exponent rebias,
/// accumulated per scale block and the block's sum multiplied by its scale. Several products (the
/// routed experts of one layer) run as one parallel loop over all their output rows; one input row
/// reads four weight rows at a time from the four quarters of its tile (streams on pages of their
/// own, as in <see cref="DenseGemv"/>).
/// </summary>
/// <remarks>
/// Rebias: sign-extend the byte to 32 bits and shift it left by 20, so e4m3's sign lands on fp32's
/// sign bit and its 4 exponent and 3 mantissa bits on the low exponent and top mantissa bits; keep
/// those and add 120 to the exponent field (7 → 127 bias): every normal code's value, exactly, in
/// four integer operations (<see cref="WidenNormal"/>). Codes with exponent 0 (zero and the
/// subnormals m·2⁻⁹) and the two NaN codes need more (<see cref="Widen"/>: the subnormal read with
/// exponent 1 and 2⁻⁶ subtracted, NaN set; ten more operations). They are rare in real weights
/// (values under 2⁻⁶/448 of a block's largest), so the weight marks the 128-column blocks of each
/// row that hold one (<see cref="MarkExactBlocks"/>, at load) and only those take the long path.
/// Both paths give the same values, so results do not depend on the marks. No step makes an fp32
/// subnormal (multiplying by 2¹²⁰ instead would: 10× slower here). Tested for all 256 codes.
/// </remarks>
public static unsafe class Fp8Gemv
{
    /// <summary>Rows up to which the kernel runs; more rows (prefill) dequantize the weight once and use libtorch's GEMM.</summary>
    public const int MaxRows = 16;

    public static bool Supported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>True when <paramref name="x"/> [n, in] can go through the kernel.</summary>
    public static bool Applies(Tensor x) =>
        Supported && x.dtype == ScalarType.Float32 && x.device_type == TorchSharp.DeviceType.CPU && x.dim() == 2 && x.shape[0] <= MaxRows;

    const int Magnitude = 0x07F00000, Exponent = 0x07800000, Sign = unchecked((int)0x80000000);
    const int SignAndMagnitude = Sign | Magnitude;
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

    /// <summary>True for the codes <see cref="WidenNormal"/> gets wrong: exponent 0 (zero, subnormals) and NaN.</summary>
    public static bool NeedsExactPath(byte code) => (code & 0x78) == 0 || (code & 0x7F) == 0x7F;

    /// <summary>8 e4m3 bytes → 8 fp32 values, any code: integer ops and one subtraction (no fp32 subnormal ever appears: they are slow).</summary>
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

    /// <summary>
    /// 8 e4m3 bytes of normal codes → 8 fp32 values: keep sign, exponent and mantissa where the shift
    /// put them and add the rebias (the exponent field stays under 256, so the sign is untouched).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> WidenNormal(byte* codes) =>
        Avx2.Add(Avx2.And(Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32((sbyte*)codes), 20), Vector256.Create(SignAndMagnitude)),
            Vector256.Create(Rebias)).AsSingle();

    /// <summary>
    /// flags [rows, ceil(cols / blockCols)] = 1 where that row's block of codes [rows, cols] holds a
    /// code <see cref="WidenNormal"/> gets wrong (see <see cref="NeedsExactPath"/>), else 0.
    /// </summary>
    public static void MarkExactBlocks(byte* codes, int rows, int cols, int blockCols, byte* flags)
    {
        int blocks = (cols + blockCols - 1) / blockCols;
        ForRows(rows, cols, o =>
        {
            byte* row = codes + (long)o * cols;
            for (int b = 0; b < blocks; b++)
            {
                int c = b * blockCols, end = Math.Min(c + blockCols, cols);
                var any = Vector256<byte>.Zero;
                for (; c + 32 <= end; c += 32)
                {
                    var v = Avx.LoadVector256(row + c);
                    var zeroExponent = Avx2.CompareEqual(Avx2.And(v, Vector256.Create((byte)0x78)), Vector256<byte>.Zero);
                    var nan = Avx2.CompareEqual(Avx2.And(v, Vector256.Create((byte)0x7F)), Vector256.Create((byte)0x7F));
                    any = Avx2.Or(any, Avx2.Or(zeroExponent, nan));
                }
                bool exact = !Avx.TestZ(any, any);
                for (; c < end && !exact; c++) exact = NeedsExactPath(row[c]);
                flags[(long)o * blocks + b] = exact ? (byte)1 : (byte)0;
            }
        });
    }

    /// <summary>y [Rows, Out] = x [Rows, In] · (codes [Out, In] × block scales)ᵀ; row o's scales are row ScaleRow[o] of Scales [·, ScaleCols], its exact-path marks row o of Exact [Out, ScaleCols].</summary>
    public readonly struct Product(byte* codes, float* scales, int* scaleRow, byte* exact, int scaleCols, int blockCols, float* x, float* y, int rows, int outFeatures, int inFeatures)
    {
        public readonly byte* Codes = codes;
        public readonly float* Scales = scales;
        public readonly int* ScaleRow = scaleRow;
        public readonly byte* Exact = exact;
        public readonly int ScaleCols = scaleCols, BlockCols = blockCols;
        public readonly float* X = x, Y = y;
        public readonly int Rows = rows, Out = outFeatures, In = inFeatures;
    }

    /// <summary>Runs every product, one parallel loop over all their output rows (split by weight bytes).</summary>
    public static void Run(Product[] products) =>
        GemvTiles.Run(products.Length, i => (products[i].Out, products[i].In), (i, first, last) => new Job(products[i]).Run(first, last));

    /// <summary>How 8 codes become fp32: the four-operation rebias for blocks of normal codes, the exact widening for marked blocks.</summary>
    readonly struct NormalCodes : IWeightFormat
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(byte* row, int i) => WidenNormal(row + i);
    }

    readonly struct AnyCodes : IWeightFormat
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(byte* row, int i) => Widen(row + i);
    }

    /// <summary>
    /// Output rows of one product. Every dot product sums the same way whatever the batch and the
    /// split: per scale block, one lane-wise accumulator over its whole vectors (in order), folded
    /// in by the block's scale; the columns past a block's last vector in a scalar sum, scaled; at
    /// the end the lanes, then the scalars. So a sequence's numbers do not depend on the others in
    /// its step.
    /// </summary>
    readonly struct Job(Product p)
    {
        readonly Product _p = p;

        /// <summary>
        /// Output rows [from, to). One input row: four weight rows at a time from the four quarters of
        /// the range. More: two weight rows (from the two halves) against four input rows, each
        /// widened weight used four times. Then the rest one by one.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int from, int to)
        {
            if (_p.Rows == 1)
            {
                int quarter = (to - from) / 4;
                for (int j = 0; j < quarter; j++) Dot4x1(from + j, from + quarter + j, from + 2 * quarter + j, from + 3 * quarter + j);
                for (int o = from + 4 * quarter; o < to; o++) _p.Y[o] = Dot(o, _p.X);
                return;
            }
            int half = (to - from) / 2;
            for (int j = 0; j < half; j++)
                for (int r = 0; r < _p.Rows; r += 4) Dot2x4(from + j, from + half + j, r);
            for (int o = from + 2 * half; o < to; o++)
                for (int r = 0; r < _p.Rows; r++) _p.Y[(long)r * _p.Out + o] = Dot(o, Row(r));
        }

        byte* Codes(int o) => _p.Codes + (long)o * _p.In;
        float* Scales(int o) => _p.Scales + (long)_p.ScaleRow[o] * _p.ScaleCols;
        byte* Exact(int o) => _p.Exact + (long)o * _p.ScaleCols;
        float* Row(int r) => _p.X + (long)Math.Min(r, _p.Rows - 1) * _p.In;

        /// <summary>Columns [c0, end) of block b: end, and where its whole vectors end.</summary>
        (int End, int Vectors) Block(int c0)
        {
            int end = Math.Min(c0 + _p.BlockCols, _p.In);
            return (end, c0 + (end - c0) / 8 * 8);
        }

        /// <summary>The one input row against weight rows o0..o3.</summary>
        void Dot4x1(int o0, int o1, int o2, int o3)
        {
            byte* w0 = Codes(o0), w1 = Codes(o1), w2 = Codes(o2), w3 = Codes(o3);
            float* s0 = Scales(o0), s1 = Scales(o1), s2 = Scales(o2), s3 = Scales(o3);
            byte* e0 = Exact(o0), e1 = Exact(o1), e2 = Exact(o2), e3 = Exact(o3);
            float* x = _p.X;
            Vector256<float> t0 = Vector256<float>.Zero, t1 = t0, t2 = t0, t3 = t0;
            float r0 = 0, r1 = 0, r2 = 0, r3 = 0;
            for (int c0 = 0, b = 0; c0 < _p.In; c0 += _p.BlockCols, b++)
            {
                var (end, vectors) = Block(c0);
                Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                if ((e0[b] | e1[b] | e2[b] | e3[b]) == 0) Sum4x1<NormalCodes>(w0, w1, w2, w3, x, c0, vectors, ref a0, ref a1, ref a2, ref a3);
                else Sum4x1<AnyCodes>(w0, w1, w2, w3, x, c0, vectors, ref a0, ref a1, ref a2, ref a3);
                t0 = Fma.MultiplyAdd(a0, Vector256.Create(s0[b]), t0);
                t1 = Fma.MultiplyAdd(a1, Vector256.Create(s1[b]), t1);
                t2 = Fma.MultiplyAdd(a2, Vector256.Create(s2[b]), t2);
                t3 = Fma.MultiplyAdd(a3, Vector256.Create(s3[b]), t3);
                if (vectors < end)
                {
                    r0 += Tail(w0, x, vectors, end) * s0[b];
                    r1 += Tail(w1, x, vectors, end) * s1[b];
                    r2 += Tail(w2, x, vectors, end) * s2[b];
                    r3 += Tail(w3, x, vectors, end) * s3[b];
                }
            }
            _p.Y[o0] = Vector256.Sum(t0) + r0;
            _p.Y[o1] = Vector256.Sum(t1) + r1;
            _p.Y[o2] = Vector256.Sum(t2) + r2;
            _p.Y[o3] = Vector256.Sum(t3) + r3;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Sum4x1<T>(byte* w0, byte* w1, byte* w2, byte* w3, float* x, int from, int to,
            ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3) where T : struct, IWeightFormat
        {
            for (int c = from; c < to; c += 8)
            {
                var xv = Avx.LoadVector256(x + c);
                a0 = Fma.MultiplyAdd(T.Load8(w0, c), xv, a0);
                a1 = Fma.MultiplyAdd(T.Load8(w1, c), xv, a1);
                a2 = Fma.MultiplyAdd(T.Load8(w2, c), xv, a2);
                a3 = Fma.MultiplyAdd(T.Load8(w3, c), xv, a3);
            }
        }

        /// <summary>Input rows r..r+3 (the last repeated past n) against weight rows o0, o1.</summary>
        void Dot2x4(int o0, int o1, int r)
        {
            byte* w0 = Codes(o0), w1 = Codes(o1);
            float* s0 = Scales(o0), s1 = Scales(o1);
            byte* e0 = Exact(o0), e1 = Exact(o1);
            float* x0 = Row(r), x1 = Row(r + 1), x2 = Row(r + 2), x3 = Row(r + 3);
            Vector256<float> t00 = Vector256<float>.Zero, t01 = t00, t02 = t00, t03 = t00, t10 = t00, t11 = t00, t12 = t00, t13 = t00;
            float r00 = 0, r01 = 0, r02 = 0, r03 = 0, r10 = 0, r11 = 0, r12 = 0, r13 = 0;
            for (int c0 = 0, b = 0; c0 < _p.In; c0 += _p.BlockCols, b++)
            {
                var (end, vectors) = Block(c0);
                var a = new Accumulators2x4();
                if ((e0[b] | e1[b]) == 0) GemvTiles.Accumulate2x4<NormalCodes>(w0, w1, x0, x1, x2, x3, c0, vectors, ref a);
                else GemvTiles.Accumulate2x4<AnyCodes>(w0, w1, x0, x1, x2, x3, c0, vectors, ref a);
                Vector256<float> v0 = Vector256.Create(s0[b]), v1 = Vector256.Create(s1[b]);
                t00 = Fma.MultiplyAdd(a.A00, v0, t00);
                t01 = Fma.MultiplyAdd(a.A01, v0, t01);
                t02 = Fma.MultiplyAdd(a.A02, v0, t02);
                t03 = Fma.MultiplyAdd(a.A03, v0, t03);
                t10 = Fma.MultiplyAdd(a.A10, v1, t10);
                t11 = Fma.MultiplyAdd(a.A11, v1, t11);
                t12 = Fma.MultiplyAdd(a.A12, v1, t12);
                t13 = Fma.MultiplyAdd(a.A13, v1, t13);
                if (vectors < end)
                {
                    r00 += Tail(w0, x0, vectors, end) * s0[b];
                    r01 += Tail(w0, x1, vectors, end) * s0[b];
                    r02 += Tail(w0, x2, vectors, end) * s0[b];
                    r03 += Tail(w0, x3, vectors, end) * s0[b];
                    r10 += Tail(w1, x0, vectors, end) * s1[b];
                    r11 += Tail(w1, x1, vectors, end) * s1[b];
                    r12 += Tail(w1, x2, vectors, end) * s1[b];
                    r13 += Tail(w1, x3, vectors, end) * s1[b];
                }
            }
            Store(r, o0, o1, Vector256.Sum(t00) + r00, Vector256.Sum(t10) + r10);
            if (r + 1 < _p.Rows) Store(r + 1, o0, o1, Vector256.Sum(t01) + r01, Vector256.Sum(t11) + r11);
            if (r + 2 < _p.Rows) Store(r + 2, o0, o1, Vector256.Sum(t02) + r02, Vector256.Sum(t12) + r12);
            if (r + 3 < _p.Rows) Store(r + 3, o0, o1, Vector256.Sum(t03) + r03, Vector256.Sum(t13) + r13);
        }

        void Store(int r, int o0, int o1, float y0, float y1)
        {
            _p.Y[(long)r * _p.Out + o0] = y0;
            _p.Y[(long)r * _p.Out + o1] = y1;
        }

        /// <summary>One weight row against one input row: the same sums, in the same order, as the tiles give.</summary>
        float Dot(int o, float* x)
        {
            byte* w = Codes(o), e = Exact(o);
            float* s = Scales(o);
            var t = Vector256<float>.Zero;
            float r = 0;
            for (int c0 = 0, b = 0; c0 < _p.In; c0 += _p.BlockCols, b++)
            {
                var (end, vectors) = Block(c0);
                var a = Vector256<float>.Zero;
                if (e[b] == 0) Sum1x1<NormalCodes>(w, x, c0, vectors, ref a);
                else Sum1x1<AnyCodes>(w, x, c0, vectors, ref a);
                t = Fma.MultiplyAdd(a, Vector256.Create(s[b]), t);
                if (vectors < end) r += Tail(w, x, vectors, end) * s[b];
            }
            return Vector256.Sum(t) + r;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Sum1x1<T>(byte* w, float* x, int from, int to, ref Vector256<float> a) where T : struct, IWeightFormat
        {
            for (int c = from; c < to; c += 8) a = Fma.MultiplyAdd(T.Load8(w, c), Avx.LoadVector256(x + c), a);
        }
    }

    /// <summary>Σ over the columns past a block's last whole vector.</summary>
    static float Tail(byte* w, float* x, int from, int to)
    {
        float sum = 0;
        for (int c = from; c < to; c++) sum += ToFloat(w[c]) * x[c];
        return sum;
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
