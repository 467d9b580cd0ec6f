using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// Chooses the routed experts of one MoE layer for each token row. In one process it is the
/// layer's <see cref="Gate"/>; in the mesh it is the layer's router grain (a stateless worker on
/// the calling frontend silo, which also counts tokens per expert).
/// </summary>
public interface IRouter : IDisposable
{
    (Tensor Weights, Tensor Indices) Route(Tensor x); // [T, hidden] -> [T, k] float, [T, k] int64
}
