using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Layers;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DeepSeekMesh.Model.Tests;

public sealed class F32GemvTests
{
    [Theory]
    [InlineData(1, 64, 3)]
    [InlineData(1, 1027, 701)] // tails in both directions, several threads
    [InlineData(3, 1027, 701)]
    [InlineData(5, 1024, 4099)] // a partial group of four input rows
    [InlineData(16, 1024, 2050)]
    public void EqualsLibtorchLinear(int rows, int inFeatures, int outFeatures)
    {
        Assert.True(F32Gemv.Supported, "this machine has AVX2 + FMA");
        using var g = new TorchSharp.torch.Generator(7);
        using var x = randn([rows, inFeatures], generator: g);
        using var w = randn([outFeatures, inFeatures], generator: g);
        using var expected = F.linear(x, w);
        using var actual = F32Gemv.Forward(x, w);
        var e = TensorData.ToArray<float>(expected);
        var a = TensorData.ToArray<float>(actual);
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-4 * (1 + Math.Abs(e[i])), $"element {i}: {e[i]} vs {a[i]}");
    }

    [Fact]
    public void EachRowGetsTheSameSumsWhateverTheBatch()
    {
        using var g = new TorchSharp.torch.Generator(8);
        using var x = randn([6, 1000], generator: g);
        using var w = randn([513, 1000], generator: g);
        using var all = F32Gemv.Forward(x, w);
        using var second = x.narrow(0, 1, 1);
        using var alone = F32Gemv.Forward(second, w);
        using var row = all.narrow(0, 1, 1);
        Assert.Equal(TensorData.ToArray<float>(alone), TensorData.ToArray<float>(row));
    }

    [Fact]
    public void OnlyLargeF32MatricesAndFewRowsTakeTheKernel()
    {
        using var big = zeros([F32Gemv.MinElements / 1024, 1024]);
        using var x1 = zeros(1, 1024);
        using var many = zeros(F32Gemv.MaxRows + 1, 1024);
        using var small = zeros([4, 1024]);
        using var bf16 = zeros([F32Gemv.MinElements / 1024, 1024], ScalarType.BFloat16);
        Assert.True(F32Gemv.Applies(x1, big));
        Assert.False(F32Gemv.Applies(many, big));
        Assert.False(F32Gemv.Applies(x1, small)); // libtorch's GEMV is as fast and wakes no pool threads
        Assert.False(F32Gemv.Applies(x1, bf16));
    }
}
