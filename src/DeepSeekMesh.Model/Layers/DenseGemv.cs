using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DeepSeekMesh.Model.Inference;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// y = x Wᵀ for a few fp32 rows against dense fp32 or bf16 weights (bf16 widened to fp32 in
/// registers, exactly), accumulating in fp32. Decode reads every weight once per step, so these
/// products are bound by memory: libtorch's CPU f32 GEMV streams the 530 MB lm_head of <c>small</c>
/// at about half the bandwidth a plain sum reaches, its bf16 products round the activations to
/// bf16, and each of its calls costs a dispatch. This kernel (AVX2 + FMA) reads each weight row
/// once for all input rows (one row: four weight rows at a time, taken from the four quarters of
/// the range so that each stream has pages of its own for the prefetchers; more rows: two weight
/// rows against four input rows, each weight load used four times). Several products (one MoE
/// layer's routed experts) run as ONE parallel loop over all their output rows, split by weight
/// bytes. Each dot product sums in the same order whatever the split and the batch, so results
/// depend neither on the thread count nor on which other sequences share the step. The weight format is a type parameter: one kernel,
/// specialised by the JIT for each.
/// </summary>
public static unsafe class DenseGemv
{
    /// <summary>Rows up to which the kernel beats libtorch's GEMM (each row re-uses the loaded weights).</summary>
    public const int MaxRows = 16;

    /// <summary>
    /// Below this many fp32 weights (1 MB, one tile) libtorch's own GEMV on the calling thread is as
    /// fast. From one tile up the kernel wins: decode steps run libtorch on one intra-op thread (see
    /// <c>InferenceEngine</c>), where its GEMV reads about half the bandwidth of this kernel's two
    /// threads; the floor was 32 MB while libtorch had every thread. bf16 weights have no floor:
    /// libtorch would round the activations to bf16 (or widen the whole weight first), this kernel
    /// widens each weight exactly in registers, so bf16 weights compute what their f32 widening would.
    /// Nor has a group of products (one layer's experts): together they are large.
    /// </summary>
    public const long MinF32Elements = GemvTiles.MinElementsPerTile;

    public static bool Supported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>True when the kernel can run x [n, in] against this dtype of weight on the CPU.</summary>
    public static bool Accepts(Tensor x, ScalarType weightDtype) =>
        Supported && weightDtype is ScalarType.Float32 or ScalarType.BFloat16 && x.dtype == ScalarType.Float32
        && x.device_type == TorchSharp.DeviceType.CPU && x.dim() == 2 && x.shape[0] <= MaxRows;

    /// <summary>One product through the kernel rather than libtorch: any bf16 weight, a large fp32 one (the lm_head).</summary>
    public static bool Applies(Tensor x, Tensor weight) =>
        Accepts(x, weight.dtype) && weight.device_type == TorchSharp.DeviceType.CPU && weight.is_contiguous()
        && (weight.dtype == ScalarType.BFloat16 || weight.numel() >= MinF32Elements);

    /// <summary>y [Rows, Out] = x [Rows, In] · W [Out, In]ᵀ, W's elements in the group's format.</summary>
    public readonly struct Product(void* w, float* x, float* y, int rows, int outFeatures, int inFeatures)
    {
        public readonly void* W = w;
        public readonly float* X = x, Y = y;
        public readonly int Rows = rows, Out = outFeatures, In = inFeatures;
    }

    public static Tensor Forward(Tensor x, Tensor weight) // [n, in] f32, [out, in] f32|bf16 -> [n, out] f32
    {
        using var input = x.is_contiguous() ? x.alias() : x.contiguous();
        if (weight.shape[1] != input.shape[1]) throw new ArgumentException($"input has {input.shape[1]} features, the weight takes {weight.shape[1]}");
        var y = empty([input.shape[0], weight.shape[0]], ScalarType.Float32);
        // Data pointers, not Tensor.bytes: a weight may be over 2 GB (DeepSeek-V3's lm_head in f32 is 3.7 GB).
        Run([new Product(TensorData.Pointer(weight), (float*)TensorData.Pointer(input), (float*)TensorData.Pointer(y),
            (int)input.shape[0], (int)weight.shape[0], (int)weight.shape[1])], weight.dtype);
        return y;
    }

    /// <summary>Runs every product (all of one weight dtype), one parallel loop over all their output rows.</summary>
    public static void Run(Product[] products, ScalarType weightDtype)
    {
        switch (weightDtype)
        {
            case ScalarType.Float32: Run<F32>(products); break;
            case ScalarType.BFloat16: Run<Bf16>(products); break;
            default: throw new ArgumentException($"no dense kernel for {weightDtype} weights", nameof(weightDtype));
        }
    }

    static void Run<T>(Product[] products) where T : struct, IFormat =>
        GemvTiles.Run(products.Length, i => (products[i].Out, products[i].In), (i, first, last) => new Job<T>(products[i]).Run(first, last));

    /// <summary>How a weight element is read: 8 at a time as fp32 (exactly), or one.</summary>
    interface IFormat : IWeightFormat
    {
        static abstract int Size { get; }
        static abstract float Load1(byte* row, int i);
    }

    readonly struct F32 : IFormat
    {
        public static int Size => 4;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(byte* row, int i) => Avx.LoadVector256((float*)row + i);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(byte* row, int i) => ((float*)row)[i];
    }

    /// <summary>bf16 → fp32: zero-extend to 32 bits and shift into the high half.</summary>
    readonly struct Bf16 : IFormat
    {
        public static int Size => 2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Load8(byte* row, int i) =>
            Avx2.ShiftLeftLogical(Avx2.ConvertToVector256Int32(Sse2.LoadVector128((ushort*)row + i)), 16).AsSingle();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Load1(byte* row, int i) => BitConverter.Int32BitsToSingle(((ushort*)row)[i] << 16);
    }

    readonly struct Job<T>(Product p) where T : struct, IFormat
    {
        readonly byte* _w = (byte*)p.W;
        readonly float* _x = p.X, _y = p.Y;
        readonly int _n = p.Rows, _in = p.In, _out = p.Out;

        /// <summary>Output rows [from, to). Compiled optimized from the first call: a decode step calls it a few dozen times, too few for tiering to reach its loops soon.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int from, int to)
        {
            if (_n == 1)
            {
                // Four streams from the four quarters of the range, not four adjacent rows: adjacent
                // bf16 rows (2 KB) share 4 KB pages, and the prefetchers follow one stream per page
                // (measured: 1.6x slower on the lm_head).
                int quarter = (to - from) / 4;
                for (int j = 0; j < quarter; j++) Dot4x1(from + j, from + quarter + j, from + 2 * quarter + j, from + 3 * quarter + j);
                for (int o = from + 4 * quarter; o < to; o++) _y[o] = Dot(WeightRow(o), _x);
                return;
            }
            int half = (to - from) / 2; // likewise two streams from the two halves
            for (int j = 0; j < half; j++)
                for (int r = 0; r < _n; r += 4) Dot2x4(from + j, from + half + j, r);
            for (int o = from + 2 * half; o < to; o++)
                for (int r = 0; r < _n; r++) _y[(long)r * _out + o] = Dot(WeightRow(o), Row(r));
        }

        byte* WeightRow(int o) => _w + (long)o * _in * T.Size;

        float* Row(int r) => _x + (long)Math.Min(r, _n - 1) * _in;

        /// <summary>The one input row against weight rows o0..o3: four streams, one accumulator each.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Dot4x1(int o0, int o1, int o2, int o3)
        {
            byte* w0 = WeightRow(o0), w1 = WeightRow(o1), w2 = WeightRow(o2), w3 = WeightRow(o3);
            Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
            int i = 0;
            for (; i + 8 <= _in; i += 8)
            {
                var xv = Avx.LoadVector256(_x + i);
                a0 = Fma.MultiplyAdd(T.Load8(w0, i), xv, a0);
                a1 = Fma.MultiplyAdd(T.Load8(w1, i), xv, a1);
                a2 = Fma.MultiplyAdd(T.Load8(w2, i), xv, a2);
                a3 = Fma.MultiplyAdd(T.Load8(w3, i), xv, a3);
            }
            _y[o0] = Finish(a0, w0, _x, i);
            _y[o1] = Finish(a1, w1, _x, i);
            _y[o2] = Finish(a2, w2, _x, i);
            _y[o3] = Finish(a3, w3, _x, i);
        }

        /// <summary>Input rows r..r+3 (the last repeated past n) against weight rows o0, o1: eight accumulators, each weight load used four times.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Dot2x4(int o0, int o1, int r)
        {
            byte* w0 = WeightRow(o0), w1 = WeightRow(o1);
            float* x0 = Row(r), x1 = Row(r + 1), x2 = Row(r + 2), x3 = Row(r + 3);
            var a = new Accumulators2x4();
            int i = _in / 8 * 8;
            GemvTiles.Accumulate2x4<T>(w0, w1, x0, x1, x2, x3, 0, i, ref a);
            Store(r, o0, o1, Finish(a.A00, w0, x0, i), Finish(a.A10, w1, x0, i));
            if (r + 1 < _n) Store(r + 1, o0, o1, Finish(a.A01, w0, x1, i), Finish(a.A11, w1, x1, i));
            if (r + 2 < _n) Store(r + 2, o0, o1, Finish(a.A02, w0, x2, i), Finish(a.A12, w1, x2, i));
            if (r + 3 < _n) Store(r + 3, o0, o1, Finish(a.A03, w0, x3, i), Finish(a.A13, w1, x3, i));
        }

        void Store(int r, int o0, int o1, float y0, float y1)
        {
            _y[(long)r * _out + o0] = y0;
            _y[(long)r * _out + o1] = y1;
        }

        /// <summary>The accumulator's lanes summed, then the elements past the last full vector.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        float Finish(Vector256<float> acc, byte* w, float* x, int i)
        {
            float sum = Vector256.Sum(acc);
            for (; i < _in; i++) sum += T.Load1(w, i) * x[i];
            return sum;
        }

        /// <summary>The same sum, in the same order, for one weight row (a tile's tail).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        float Dot(byte* w, float* x)
        {
            var acc = Vector256<float>.Zero;
            int i = 0;
            for (; i + 8 <= _in; i += 8) acc = Fma.MultiplyAdd(T.Load8(w, i), Avx.LoadVector256(x + i), acc);
            return Finish(acc, w, x, i);
        }
    }
}
