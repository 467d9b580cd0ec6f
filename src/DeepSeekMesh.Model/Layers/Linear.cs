using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DeepSeekMesh.Model.Layers;

/// <summary>y = x Wᵀ (no bias in DeepSeek-V3). Weights may be stored narrower than the activations.</summary>
public sealed class Linear(Tensor weight) : IDisposable
{
    public Tensor Weight { get; } = weight; // [out, in]

    public long OutFeatures => Weight.shape[0];
    public long InFeatures => Weight.shape[1];

    public Tensor Forward(Tensor x) // [..., in] -> [..., out]
    {
        if (F32Gemv.Applies(x, Weight)) return F32Gemv.Forward(x, Weight);
        if (x.dtype == Weight.dtype) return F.linear(x, Weight);
        if (Bf16Gemv.Applies(x, Weight)) return Bf16Gemv.Forward(x, Weight);
        using var narrow = x.to(Weight.dtype);
        using var y = F.linear(narrow, Weight);
        return y.to(x.dtype);
    }

    public void Dispose() => Weight.Dispose();
}
