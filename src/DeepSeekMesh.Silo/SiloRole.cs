namespace DeepSeekMesh.Silo;

/// <summary>What a silo hosts; published as the silo metadata key <see cref="SiloRoles.MetadataKey"/>.</summary>
public enum SiloRole
{
    /// <summary>The engine (attention, dense layers, shared experts, sampling, KV cache), routers and completion grains.</summary>
    Frontend,
    /// <summary>Routed expert grains only; no transformer is loaded.</summary>
    Expert,
    /// <summary>Both: a one-silo mesh.</summary>
    All,
}

public static class SiloRoles
{
    /// <summary>The silo metadata key holding the role name.</summary>
    public const string MetadataKey = "role";

    public const string Frontend = "frontend";
    public const string Expert = "expert";
    public const string All = "all";

    public static string Name(this SiloRole role) => role switch
    {
        SiloRole.Frontend => Frontend,
        SiloRole.Expert => Expert,
        SiloRole.All => All,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    public static SiloRole Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        Frontend => SiloRole.Frontend,
        Expert => SiloRole.Expert,
        All => SiloRole.All,
        _ => throw new ArgumentException($"silo role '{name}' is not frontend, expert or all"),
    };

    /// <summary>True when the role runs the engine (and so completion and router grains).</summary>
    public static bool ServesCompletions(this SiloRole role) => role is SiloRole.Frontend or SiloRole.All;

    /// <summary>True when the role hosts routed expert grains.</summary>
    public static bool HostsExperts(this SiloRole role) => role is SiloRole.Expert or SiloRole.All;
}
