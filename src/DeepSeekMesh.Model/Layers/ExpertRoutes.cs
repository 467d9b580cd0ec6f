using DeepSeekMesh.Model.Inference;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>The rows routed to one expert and the gate weight of each.</summary>
public sealed record ExpertRoute(int Expert, Tensor Rows, Tensor Weights); // Rows [n] int64, Weights [n]

public static class ExpertRoutes
{
    /// <summary>
    /// Groups a top-k routing by expert, in ascending expert order (the reference's summation order).
    /// The grouping is computed on the device (a stable sort of the chosen experts); the host reads
    /// the sorted expert ids once — the layer's one copy — and each route is a slice of the sorted rows.
    /// </summary>
    /// <returns>The routes, and the rows and weights of every (token, expert) pair in expert order (the routes' slices, whole).</returns>
    public static (IReadOnlyList<ExpertRoute> Routes, Tensor Rows, Tensor Weights) Group(Tensor indices, Tensor weights) // [T, k] int64, [T, k]
    {
        long T = indices.shape[0], k = indices.shape[1];
        var (experts, slots) = indices.reshape(-1).sort(stable: true); // [T·k] ascending, [T·k] slot of each
        var rows = arange(T, device: indices.device).repeat_interleave(k).index_select(0, slots); // [T·k]: the row of each slot
        var slotWeights = weights.reshape(-1).index_select(0, slots); // [T·k]
        var sorted = TensorData.ToArray<long>(experts); // [T·k]
        var routes = new List<ExpertRoute>();
        for (int start = 0, end; start < sorted.Length; start = end)
        {
            for (end = start + 1; end < sorted.Length && sorted[end] == sorted[start]; end++) { }
            routes.Add(new ExpertRoute((int)sorted[start], rows.narrow(0, start, end - start), slotWeights.narrow(0, start, end - start))); // [n], [n]
        }
        return (routes, rows, slotWeights); // per expert; [T·k], [T·k]
    }
}
