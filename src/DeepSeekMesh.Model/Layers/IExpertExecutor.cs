using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>The token rows one routed expert must transform in this step.</summary>
public readonly record struct ExpertWork(int Expert, Tensor Rows); // Rows [n, hidden]

/// <summary>Expert calls in flight; <see cref="Wait"/> returns one [n, hidden] result per <see cref="ExpertWork"/>, in order.</summary>
public interface IPendingExperts
{
    Tensor[] Wait();
}

/// <summary>
/// Where routed experts run. In one process they are local <see cref="Mlp"/>s; in the mesh each
/// expert is a grain on an expert silo and the rows travel over the network. The MoE layer starts
/// ONE call per distinct expert with all its rows, computes the shared expert meanwhile, then waits.
/// </summary>
public interface IExpertExecutor : IDisposable
{
    IPendingExperts Start(int layer, IReadOnlyList<ExpertWork> work);
}
