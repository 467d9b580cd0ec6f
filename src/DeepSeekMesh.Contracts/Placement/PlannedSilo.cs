namespace DeepSeekMesh.Contracts.Placement;

/// <summary>A live expert silo as the planner sees it: its address, declared capacity (experts; null = unlimited) and whether it is draining.</summary>
public sealed record PlannedSilo(string Address, int? Capacity = null, bool Draining = false);
