namespace DeepSeekMesh.Contracts.Placement;

/// <summary>The planner's policy.</summary>
public sealed record ExpertPlannerOptions
{
    /// <summary>An expert whose load exceeds this many times its layer's mean is hot and gets replicas.</summary>
    public double HotFactor { get; init; } = 2.0;

    /// <summary>The most replicas one expert gets (also never more than the expert silos).</summary>
    public int MaxReplicas { get; init; } = 8;

    /// <summary>A layer is rebalanced only while its busiest silo carries more than (1 + Tolerance) × the mean.</summary>
    public double Tolerance { get; init; } = 0.10;

    /// <summary>
    /// Rows every expert is assumed to have on top of its measured ones (a prior): a few tokens of
    /// traffic say nothing about an expert's load, and moving experts on that noise costs loads and hops.
    /// Measured load outweighs it once experts see many times this many rows in the window.
    /// </summary>
    public double PriorRows { get; init; } = 32;
}
