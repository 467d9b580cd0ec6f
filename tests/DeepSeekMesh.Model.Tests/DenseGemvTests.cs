using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Layers;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DeepSeekMesh.Model.Tests;

public sealed class DenseGemvTests
{
    [Theory]
    [InlineData(1, 64, 3, ScalarType.Float32)]
    [InlineData(1, 1027, 701, ScalarType.Float32)] // tails in both directions, several threads
    [InlineData(3, 1027, 701, ScalarType.Float32)]
    [InlineData(5, 1024, 4099, ScalarType.Float32)] // a partial group of four input rows
    [InlineData(16, 1024, 2050, ScalarType.Float32)]
    [InlineData(1, 64, 3, ScalarType.BFloat16)]
    [InlineData(1, 1027, 701, ScalarType.BFloat16)]
    [InlineData(3, 1027, 700, ScalarType.BFloat16)]
    [InlineData(16, 1024, 4096, ScalarType.BFloat16)]
    public void EqualsFp32MathOnTheSameWeights(int rows, int inFeatures, int outFeatures, ScalarType dtype)
    {
        Assert.True(DenseGemv.Supported, "this machine has AVX2 + FMA");
        using var g = new TorchSharp.torch.Generator(7);
        using var x = randn([rows, inFeatures], generator: g);
        using var w = randn([outFeatures, inFeatures], generator: g).to(dtype);
        using var wide = w.to(ScalarType.Float32); // bf16 widens exactly: the kernel must compute this product
        using var expected = F.linear(x, wide);
        using var actual = DenseGemv.Forward(x, w);
        AssertClose(expected, actual);
    }

    [Fact]
    public void EachRowGetsTheSameSumsWhateverTheBatch()
    {
        using var g = new TorchSharp.torch.Generator(8);
        using var x = randn([6, 1000], generator: g);
        using var w = randn([513, 1000], generator: g);
        using var all = DenseGemv.Forward(x, w);
        using var second = x.narrow(0, 1, 1);
        using var alone = DenseGemv.Forward(second, w);
        using var row = all.narrow(0, 1, 1);
        Assert.Equal(TensorData.ToArray<float>(alone), TensorData.ToArray<float>(row));
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void AGroupOfProductsEqualsEachAlone(ScalarType dtype)
    {
        // One layer's experts as one loop: the split across threads cuts through products, rows and
        // partial groups of rows; every product must still get exactly its own sums.
        using var g = new TorchSharp.torch.Generator(9);
        var weights = Enumerable.Range(0, 5).Select(_ => randn([301, 260], generator: g).to(dtype)).ToArray();
        var xs = new[] { 1, 3, 0, 16, 2 }.Select(n => randn([n, 260], generator: g)).ToArray();
        var linears = weights.Select(w => new Linear(w)).ToArray();
        using var grouped = Linear.Grouped(linears, xs);
        using var alone = cat(weights.Select((w, i) => DenseGemv.Forward(xs[i], w)).ToList(), 0);
        Assert.Equal(new long[] { 22, 301 }, grouped.shape);
        Assert.Equal(TensorData.ToArray<float>(alone), TensorData.ToArray<float>(grouped));
        foreach (var l in linears) l.Dispose();
        foreach (var x in xs) x.Dispose();
    }

    [Fact]
    public void FewRowsAndLargeF32OrAnyBf16MatricesTakeTheKernelAlone()
    {
        using var big = zeros([DenseGemv.MinF32Elements / 1024, 1024]);
        using var small16 = zeros([4, 1024], ScalarType.BFloat16);
        using var x1 = zeros(1, 1024);
        using var many = zeros(DenseGemv.MaxRows + 1, 1024);
        using var small = zeros([4, 1024]);
        Assert.True(DenseGemv.Applies(x1, big));
        Assert.True(DenseGemv.Applies(x1, small16)); // exact widening: libtorch would round x to bf16
        Assert.False(DenseGemv.Applies(many, big));
        Assert.False(DenseGemv.Applies(many, small16));
        Assert.False(DenseGemv.Applies(x1, small)); // libtorch's GEMV is as fast and wakes no pool threads
        Assert.False(DenseGemv.Accepts(x1, ScalarType.Float16));
    }

    static void AssertClose(Tensor expected, Tensor actual)
    {
        var e = TensorData.ToArray<float>(expected);
        var a = TensorData.ToArray<float>(actual);
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-4 * (1 + Math.Abs(e[i])), $"element {i}: {e[i]} vs {a[i]}");
    }
}
