using System.Diagnostics;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Silo.Mesh;
using static TorchSharp.torch;

namespace DeepSeekMesh.Silo.Frontend;

/// <summary>The MoE layer's router as its router grain (a stateless worker on this frontend silo).</summary>
public sealed class GrainRouter(IGrainFactory grains, int layer, ExpertTrafficStats stats) : IRouter
{
    readonly IRouterGrain _grain = grains.GetGrain<IRouterGrain>(layer);

    public int Layer => layer;

    public (Tensor Weights, Tensor Indices) Route(Tensor x) // [T, hidden] -> [T, k] float, [T, k] int64
    {
        long started = Stopwatch.GetTimestamp();
        var routing = _grain.Route(RowCodec.ToRows(x, RowDtype.F32)).GetAwaiter().GetResult();
        stats.Routed(Stopwatch.GetElapsedTime(started));
        var weights = tensor(routing.Weights, [routing.Tokens, routing.TopK], ScalarType.Float32).to(x.dtype, x.device);
        var indices = tensor(routing.Indices, [routing.Tokens, routing.TopK], ScalarType.Int32).to(ScalarType.Int64, x.device);
        return (weights, indices);
    }

    public void Dispose() { }
}
