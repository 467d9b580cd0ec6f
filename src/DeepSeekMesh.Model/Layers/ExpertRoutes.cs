using DeepSeekMesh.Model.Inference;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>The rows routed to one expert and the gate weight of each.</summary>
public sealed record ExpertRoute(int Expert, Tensor Rows, Tensor Weights); // Rows [n] int64, Weights [n]

public static class ExpertRoutes
{
    /// <summary>Groups a top-k routing by expert, in ascending expert order (the reference's summation order).</summary>
    public static IReadOnlyList<ExpertRoute> Group(Tensor indices, Tensor weights) // [T, k] int64, [T, k]
    {
        long T = indices.shape[0], k = indices.shape[1];
        var chosen = TensorData.ToArray<long>(indices); // [T·k]
        var rowsOf = new SortedDictionary<int, List<long>>();
        var slotsOf = new SortedDictionary<int, List<long>>();
        for (long i = 0; i < T * k; i++)
        {
            int expert = (int)chosen[i];
            if (!rowsOf.TryGetValue(expert, out var rows))
            {
                rowsOf[expert] = rows = new List<long>();
                slotsOf[expert] = new List<long>();
            }
            rows.Add(i / k);
            slotsOf[expert].Add(i);
        }
        var flatWeights = weights.reshape(-1); // [T·k]
        return rowsOf.Select(e => new ExpertRoute(
            e.Key,
            tensor(e.Value.ToArray(), ScalarType.Int64, indices.device), // [n]
            flatWeights.index_select(0, tensor(slotsOf[e.Key].ToArray(), ScalarType.Int64, indices.device)))) // [n]
            .ToList();
    }
}
