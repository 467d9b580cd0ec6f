namespace DeepSeekMesh.Contracts.Mesh;

/// <summary>
/// One MoE layer's rows for one expert silo: item i is <see cref="RowCounts"/>[i] consecutive rows
/// of <see cref="Rows"/> for expert <see cref="Experts"/>[i], replica <see cref="Replicas"/>[i].
/// </summary>
[GenerateSerializer, Immutable, Alias("dsm.ExpertBatch")]
public sealed class ExpertBatch
{
    [Id(0)] public int Layer { get; init; }
    [Id(1)] public int[] Experts { get; init; } = [];
    [Id(2)] public int[] Replicas { get; init; } = [];
    [Id(3)] public int[] RowCounts { get; init; } = [];
    /// <summary>All items' rows, [Σ RowCounts, hidden].</summary>
    [Id(4)] public TokenRows Rows { get; init; } = new();
    /// <summary>The plan version the sender dispatched by (for diagnostics).</summary>
    [Id(5)] public long PlanVersion { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> when the items do not describe the rows.</summary>
    public void Validate()
    {
        Rows.Validate();
        if (Experts.Length != Replicas.Length || Experts.Length != RowCounts.Length)
            throw new ArgumentException($"expert batch has {Experts.Length} experts, {Replicas.Length} replicas and {RowCounts.Length} row counts");
        long total = 0;
        foreach (var n in RowCounts)
        {
            if (n < 0) throw new ArgumentException("expert batch has a negative row count");
            total += n;
        }
        if (total != Rows.Rows) throw new ArgumentException($"expert batch items hold {total} rows, the payload {Rows.Rows}");
    }
}
