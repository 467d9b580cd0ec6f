using System.Runtime.Intrinsics.X86;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Model.Weights;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DeepSeekMesh.Model.Tests;

/// <summary>The FP8 kernel against the plain definition: value = table[code] × scale of its 128×128 block, then an fp32 matmul.</summary>
public sealed class Fp8GemvTests
{
    [Fact]
    public void RebiasGivesEveryCodesValue()
    {
        Assert.True(Fp8Gemv.Supported, "this machine has AVX2 + FMA");
        for (int code = 0; code < 256; code++)
        {
            float expected = ElementDecoder.Fp8E4M3[code], actual = Fp8Gemv.ToFloat((byte)code);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual) || (float.IsNaN(expected) && float.IsNaN(actual)),
                $"code 0x{code:X2}: {actual} instead of {expected}");
        }
        // The vector path: all 256 codes in one row, scale 1.
        using var weight = Weight(Enumerable.Range(0, 256).Select(c => (byte)c).ToArray(), [1f], rows: 1, cols: 256, blockRows: 128, blockCols: 256);
        using var dense = weight.Dequantize(ScalarType.Float32);
        var values = TensorData.ToArray<float>(dense);
        for (int code = 0; code < 256; code++)
            Assert.True(values[code].Equals(ElementDecoder.Fp8E4M3[code]), $"code 0x{code:X2}: vector {values[code]} instead of {ElementDecoder.Fp8E4M3[code]}");
    }

    [Fact]
    public void ShortWideningIsExactForEveryCodeNotMarkedExact()
    {
        var codes = Enumerable.Range(0, 256).Select(c => (byte)c).ToArray();
        var values = new float[256];
        unsafe
        {
            fixed (byte* c = codes)
            fixed (float* v = values)
                for (int i = 0; i < 256; i += 8) Avx.Store(v + i, Fp8Gemv.WidenNormal(c + i));
        }
        int exact = 0;
        for (int code = 0; code < 256; code++)
        {
            bool right = values[code].Equals(ElementDecoder.Fp8E4M3[code]);
            if (Fp8Gemv.NeedsExactPath((byte)code)) exact++;
            Assert.True(right != Fp8Gemv.NeedsExactPath((byte)code), $"code 0x{code:X2}: short widening {values[code]}, value {ElementDecoder.Fp8E4M3[code]}, marked {Fp8Gemv.NeedsExactPath((byte)code)}");
        }
        Assert.Equal(2 * (8 + 1), exact); // ±(zero and 7 subnormals), ±NaN
    }

    [Fact]
    public void BlocksWithZeroSubnormalOrNanCodesAreMarked()
    {
        const int rows = 3, cols = 300, block = 128; // blocks of 128, 128 and 44 columns
        var codes = Enumerable.Repeat((byte)0x38, rows * cols).ToArray(); // 1.0 everywhere
        codes[0 * cols + 5] = 0x00;       // row 0, block 0: zero
        codes[1 * cols + 130] = 0x83;     // row 1, block 1: a negative subnormal
        codes[2 * cols + 299] = 0xFF;     // row 2, block 2: NaN, in the scalar tail of the scan
        codes[2 * cols + 127] = 0x08;     // row 2, block 0: the smallest normal code is not marked
        using var weight = Weight(codes, Enumerable.Repeat(1f, 3).ToArray(), rows, cols, block, block);
        Assert.Equal(new byte[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, TensorData.ToArray<byte>(weight.ExactBlocks!));
    }

    [Theory]
    [InlineData(1, 300, 130, false)]   // partial blocks in both directions, a scalar tail within a block
    [InlineData(1, 1024, 301, true)]   // mostly normal codes: the short widening, four rows at a time, marked blocks among them
    [InlineData(1, 200, 37, true)]  // 37 rows: four at a time and one by one
    [InlineData(3, 256, 257, false)]
    [InlineData(3, 256, 257, true)]
    [InlineData(8, 1024, 700, false)]
    [InlineData(16, 300, 130, true)]   // the largest row count the kernel takes
    [InlineData(20, 300, 130, false)]  // above it: dequantize, then libtorch
    public void ProductMatchesDequantizeThenMatmul(int rows, int inFeatures, int outFeatures, bool realistic)
    {
        var random = new Random(rows * 31 + inFeatures);
        var (linear, reference) = RandomFp8(random, outFeatures, inFeatures, realistic);
        if (realistic)
        {
            var marks = TensorData.ToArray<byte>(linear.Fp8!.ExactBlocks!);
            Assert.Contains((byte)0, marks);
            Assert.Contains((byte)1, marks);
        }
        using var _ = linear;
        using var w = reference;
        using var g = new TorchSharp.torch.Generator(7);
        using var x = randn([rows, inFeatures], generator: g);
        using var expected = F.linear(x, w);
        using var actual = linear.Forward(x);
        using var magnitude = F.linear(x.abs(), w.abs()); // Σ |w x|: the scale of fp32 rounding differences between summation orders
        AssertClose(expected, actual, magnitude);
    }

    [Fact]
    public void ARowsResultDoesNotDependOnTheOtherRowsOfItsBatch()
    {
        var (linear, reference) = RandomFp8(new Random(21), 301, 1000, realistic: true);
        using var _ = linear;
        reference.Dispose();
        using var g = new TorchSharp.torch.Generator(5);
        using var x = randn([16, 1000], generator: g);
        using var batch = linear.Forward(x);
        var together = TensorData.ToArray<float>(batch);
        foreach (int n in new[] { 1, 3, 5, 16 })
        {
            using var first = linear.Forward(x.narrow(0, 0, n));
            Assert.Equal(together.Take(n * 301).ToArray(), TensorData.ToArray<float>(first));
        }
        for (int r = 0; r < 16; r += 5)
        {
            using var alone = linear.Forward(x.narrow(0, r, 1));
            Assert.Equal(together.Skip(r * 301).Take(301).ToArray(), TensorData.ToArray<float>(alone));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GroupedExpertsEqualOneByOne(bool fp8)
    {
        var random = new Random(11);
        const int hidden = 256, intermediate = 192;
        var experts = Enumerable.Range(0, 3).Select(_ =>
        {
            var (gateUp, gateUpDense) = RandomFp8(random, 2 * intermediate, hidden);
            var (down, downDense) = RandomFp8(random, hidden, intermediate);
            if (fp8)
            {
                gateUpDense.Dispose();
                downDense.Dispose();
                return new Mlp(gateUp, down);
            }
            gateUp.Dispose();
            down.Dispose();
            return new Mlp(new Linear(gateUpDense), new Linear(downDense));
        }).ToArray();
        try
        {
            using var g = new TorchSharp.torch.Generator(3);
            var xs = new[] { randn([1, hidden], generator: g), randn([4, hidden], generator: g), randn([0, hidden], generator: g), randn([2, hidden], generator: g) };
            var owners = new[] { experts[0], experts[2], experts[1], experts[1] };
            using var grouped = Mlp.Grouped(owners, xs);
            using var oneByOne = cat(owners.Select((e, i) => e.Forward(xs[i])).ToList(), 0);
            Assert.Equal(oneByOne.shape, grouped.shape);
            if (fp8) Assert.Equal(TensorData.ToArray<float>(oneByOne), TensorData.ToArray<float>(grouped)); // one kernel either way
            else AssertClose(oneByOne, grouped, (oneByOne.abs() + 1) * 100); // libtorch alone, DenseGemv grouped: other summation orders (1e-4 relative)
            foreach (var x in xs) x.Dispose();
        }
        finally
        {
            foreach (var e in experts) e.Dispose();
        }
    }

    [Fact]
    public void TensorOpsDequantizeLikeTheKernel()
    {
        // The CUDA path (table lookup and block scales as tensor ops), run here on the CPU.
        var (linear, reference) = RandomFp8(new Random(9), 300, 260);
        using var _ = linear;
        using var w = reference;
        using var kernel = linear.Fp8!.Dequantize(ScalarType.Float32);
        using var ops = linear.Fp8.DequantizeWithTensorOps(ScalarType.Float32);
        Assert.Equal(TensorData.ToArray<float>(w), TensorData.ToArray<float>(kernel));
        Assert.Equal(TensorData.ToArray<float>(w), TensorData.ToArray<float>(ops));
        // bf16 (what --weights bf16 makes of an FP8 checkpoint): the kernel rounds like libtorch.
        using var kernel16 = linear.Fp8.Dequantize(ScalarType.BFloat16);
        using var ops16 = linear.Fp8.DequantizeWithTensorOps(ScalarType.BFloat16);
        using var reference16 = w.to(ScalarType.BFloat16);
        Assert.Equal(TensorData.ToArray<ushort>(reference16), TensorData.ToArray<ushort>(kernel16));
        Assert.Equal(TensorData.ToArray<ushort>(reference16), TensorData.ToArray<ushort>(ops16));
    }

    [Fact]
    public void Fp8ExpertHoldsTheCheckpointsBytes()
    {
        var random = new Random(5);
        var (gateUp, a) = RandomFp8(random, 2 * 256, 384);
        var (down, b) = RandomFp8(random, 384, 256);
        a.Dispose();
        b.Dispose();
        using var mlp = new Mlp(gateUp, down);
        long codes = 2 * 256 * 384 + 384 * 256, scales = 4 * (4 * 3 + 3 * 2), rowIndex = 4 * (2 * 256 + 384), marks = 2 * 256 * 3 + 384 * 2;
        Assert.Equal(codes + scales + rowIndex + marks, mlp.ParameterBytes);
    }

    /// <summary>
    /// Random codes (no NaN) and block scales, as an FP8 <see cref="Linear"/> and as its dense f32 weight computed from the table.
    /// <paramref name="realistic"/>: normal codes, with a zero or subnormal code in one block in ten (as in quantized weights, where they are rare); else any code.
    /// </summary>
    static (Linear Fp8, Tensor Dense) RandomFp8(Random random, int rows, int cols, bool realistic = false)
    {
        const int block = 128;
        int scaleRows = (rows + block - 1) / block, scaleCols = (cols + block - 1) / block;
        var codes = new byte[rows * cols];
        for (int i = 0; i < codes.Length; i++)
        {
            codes[i] = (byte)random.Next(256);
            if ((codes[i] & 0x7F) == 0x7F) codes[i] ^= 1; // not NaN
            if (realistic && (codes[i] & 0x78) == 0) codes[i] |= 0x40;
        }
        if (realistic)
            for (int r = 0; r < rows; r++)
                for (int b = 0; b < scaleCols; b++)
                    if (random.Next(10) == 0) codes[r * cols + Math.Min(cols - 1, b * block + random.Next(block))] = (byte)random.Next(8);
        var scales = Enumerable.Range(0, scaleRows * scaleCols).Select(_ => (float)(0.001 + random.NextDouble() * 0.01)).ToArray();
        var dense = new float[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                dense[r * cols + c] = ElementDecoder.Fp8E4M3[codes[r * cols + c]] * scales[r / block * scaleCols + c / block];
        return (new Linear(Weight(codes, scales, rows, cols, block, block)), tensor(dense).view(rows, cols));
    }

    static Fp8Weight Weight(byte[] codes, float[] scales, int rows, int cols, int blockRows, int blockCols) =>
        new(tensor(codes).view(rows, cols), tensor(scales).view(-1, (cols + blockCols - 1) / blockCols),
            tensor(Enumerable.Range(0, rows).Select(r => r / blockRows).ToArray()), blockCols);

    static void AssertClose(Tensor expected, Tensor actual, Tensor magnitude)
    {
        Assert.Equal(expected.shape, actual.shape);
        var e = TensorData.ToArray<float>(expected);
        var a = TensorData.ToArray<float>(actual);
        var m = TensorData.ToArray<float>(magnitude);
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-6 * (1 + m[i]), $"element {i}: {e[i]} vs {a[i]} (Σ|wx| {m[i]})");
    }
}
