using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>The FFN half of a block: a dense <see cref="Mlp"/> or a <see cref="Moe"/>.</summary>
public interface IFeedForward : IDisposable
{
    Tensor Forward(Tensor x); // [T, hidden] -> [T, hidden]
}
