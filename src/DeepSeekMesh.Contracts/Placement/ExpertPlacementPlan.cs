namespace DeepSeekMesh.Contracts.Placement;

/// <summary>
/// Which expert silo hosts each routed expert of a model, and its replicas: version
/// <see cref="Version"/> of the plan the <see cref="IExpertPlanGrain"/> owns. Replica r of
/// (layer, expert) lives on <c>Silos[Replicas[slot][r]]</c>; frontends split an expert's rows evenly
/// between its replicas. An empty plan (no expert silo yet) places nothing.
/// </summary>
[GenerateSerializer, Immutable, Alias("dsm.ExpertPlacementPlan")]
public sealed class ExpertPlacementPlan
{
    /// <summary>Increases with every change; 0 for the empty plan nobody has computed.</summary>
    [Id(0)] public long Version { get; init; }
    /// <summary>Silo slot → silo address (<c>SiloAddress.ToParsableString()</c>), sorted.</summary>
    [Id(1)] public string[] Silos { get; init; } = [];
    /// <summary>The model's MoE layers, ascending.</summary>
    [Id(2)] public int[] Layers { get; init; } = [];
    /// <summary>Routed experts per MoE layer (n_routed_experts).</summary>
    [Id(3)] public int ExpertsPerLayer { get; init; }
    /// <summary>(layer slot · <see cref="ExpertsPerLayer"/> + expert) → silo slot of each replica; empty when unplaced.</summary>
    [Id(4)] public int[][] Replicas { get; init; } = [];

    public static ExpertPlacementPlan Empty(int[] layers, int expertsPerLayer) => new()
    {
        Layers = layers,
        ExpertsPerLayer = expertsPerLayer,
        Replicas = Enumerable.Range(0, layers.Length * expertsPerLayer).Select(_ => Array.Empty<int>()).ToArray(),
    };

    /// <summary>True when every expert of every MoE layer has at least one replica.</summary>
    public bool IsComplete => Silos.Length > 0 && Replicas.Length == Layers.Length * ExpertsPerLayer && Replicas.All(r => r.Length > 0);

    /// <summary>The silo slots of (layer, expert)'s replicas; empty when the layer is not a MoE layer of the plan.</summary>
    public int[] ReplicasOf(int layer, int expert)
    {
        int slot = Array.BinarySearch(Layers, layer);
        if (slot < 0 || (uint)expert >= (uint)ExpertsPerLayer) return [];
        return Replicas[slot * ExpertsPerLayer + expert];
    }

    /// <summary>The silo hosting replica <paramref name="replica"/> of (layer, expert), or null when the plan has no such replica.</summary>
    public string? SiloOf(int layer, int expert, int replica)
    {
        var replicas = ReplicasOf(layer, expert);
        return (uint)replica < (uint)replicas.Length ? Silos[replicas[replica]] : null;
    }

    /// <summary>Every (layer, expert, replica) the plan puts on <paramref name="silo"/>.</summary>
    public IEnumerable<ExpertReplica> On(string silo)
    {
        int s = Array.IndexOf(Silos, silo);
        if (s < 0) yield break;
        for (int l = 0; l < Layers.Length; l++)
            for (int e = 0; e < ExpertsPerLayer; e++)
            {
                var replicas = Replicas[l * ExpertsPerLayer + e];
                for (int r = 0; r < replicas.Length; r++)
                    if (replicas[r] == s) yield return new ExpertReplica(Layers[l], e, r);
            }
    }

    /// <summary>Every placed replica and its silo.</summary>
    public IEnumerable<(ExpertReplica Replica, string Silo)> All()
    {
        for (int l = 0; l < Layers.Length; l++)
            for (int e = 0; e < ExpertsPerLayer; e++)
            {
                var replicas = Replicas[l * ExpertsPerLayer + e];
                for (int r = 0; r < replicas.Length; r++) yield return (new ExpertReplica(Layers[l], e, r), Silos[replicas[r]]);
            }
    }

    /// <summary>Replicas in <paramref name="after"/> whose silo differs from <paramref name="before"/>'s (new replicas count; removed ones do not).</summary>
    public static int Moves(ExpertPlacementPlan? before, ExpertPlacementPlan after) =>
        after.All().Count(p => before?.SiloOf(p.Replica.Layer, p.Replica.Expert, p.Replica.Replica) != p.Silo);

    /// <summary>True when both place every replica on the same silo.</summary>
    public bool SamePlacement(ExpertPlacementPlan other) =>
        Layers.SequenceEqual(other.Layers) && ExpertsPerLayer == other.ExpertsPerLayer
        && All().Select(p => (p.Replica, p.Silo)).SequenceEqual(other.All().Select(p => (p.Replica, p.Silo)));

    public ExpertPlacementPlan WithVersion(long version) => new() { Version = version, Silos = Silos, Layers = Layers, ExpertsPerLayer = ExpertsPerLayer, Replicas = Replicas };

    public override string ToString() => $"plan v{Version}: {Silos.Length} silos, {Replicas.Sum(r => r.Length)} replicas";
}

/// <summary>One replica of one routed expert: the identity of an expert grain.</summary>
[GenerateSerializer, Immutable, Alias("dsm.ExpertReplica")]
public readonly record struct ExpertReplica([property: Id(0)] int Layer, [property: Id(1)] int Expert, [property: Id(2)] int Replica)
{
    public override string ToString() => ExpertKey.Format(Layer, Expert, Replica);
}
