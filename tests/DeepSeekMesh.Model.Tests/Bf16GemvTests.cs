using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Layers;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DeepSeekMesh.Model.Tests;

public sealed class Bf16GemvTests
{
    [Theory]
    [InlineData(1, 64, 3)]
    [InlineData(3, 1027, 700)] // tails in both directions, several threads
    [InlineData(4, 1024, 4096)]
    public void MatchesFp32MathOnTheSameBf16Weights(int rows, int inFeatures, int outFeatures)
    {
        Assert.True(Bf16Gemv.Supported, "this machine has AVX2 + FMA");
        using var g = new TorchSharp.torch.Generator(5);
        using var x = randn([rows, inFeatures], generator: g);
        using var w = randn([outFeatures, inFeatures], generator: g).to(ScalarType.BFloat16);
        using var wide = w.to(ScalarType.Float32);
        using var expected = F.linear(x, wide);
        using var actual = Bf16Gemv.Forward(x, w);
        var e = TensorData.ToArray<float>(expected);
        var a = TensorData.ToArray<float>(actual);
        for (int i = 0; i < e.Length; i++) Assert.True(Math.Abs(e[i] - a[i]) <= 1e-4 * (1 + Math.Abs(e[i])), $"element {i}: {e[i]} vs {a[i]}");
    }

    [Fact]
    public void BatchesAboveTheThresholdUseLibtorch()
    {
        using var x = zeros(Bf16Gemv.MaxRows + 1, 8);
        using var w = zeros([4, 8], ScalarType.BFloat16);
        Assert.False(Bf16Gemv.Applies(x, w));
        using var x1 = zeros(1, 8);
        Assert.False(Bf16Gemv.Applies(x1, w)); // small: libtorch's bf16 GEMV is as fast
        using var big = zeros([Bf16Gemv.MinElements / 1024, 1024], ScalarType.BFloat16);
        using var x1024 = zeros(1, 1024);
        Assert.True(Bf16Gemv.Applies(x1024, big));
    }
}
