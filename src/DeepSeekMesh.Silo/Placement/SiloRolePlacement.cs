using Orleans.Metadata;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace DeepSeekMesh.Silo.Placement;

/// <summary>
/// Keeps only the candidate silos whose "role" metadata is one of <see cref="Roles"/>. (Orleans'
/// built-in metadata filters compare against the PLACING silo's metadata, so they cannot say
/// "role == expert" when a frontend places an expert grain; see ENVIRONMENT.md.)
/// </summary>
public sealed class SiloRoleFilterStrategy : PlacementFilterStrategy
{
    const string RolesProperty = "roles";

    public string[] Roles { get; private set; }

    /// <summary>Used by the runtime, which then initializes <see cref="Roles"/> from the grain type's properties.</summary>
    public SiloRoleFilterStrategy() : this([], 0) { }

    public SiloRoleFilterStrategy(string[] roles, int order) : base(order) => Roles = roles;

    public override void AdditionalInitialize(GrainProperties properties)
    {
        var roles = GetPlacementFilterGrainProperty(RolesProperty, properties);
        Roles = string.IsNullOrEmpty(roles) ? [] : roles.Split(',');
    }

    protected override IEnumerable<KeyValuePair<string, string>> GetAdditionalGrainProperties(IServiceProvider services, Type grainClass,
        GrainType grainType, IReadOnlyDictionary<string, string> existingProperties)
    {
        yield return new(RolesProperty, string.Join(',', Roles));
    }
}

/// <summary>Places the grain class only on silos whose role is one of the given ones.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public class SiloRolePlacementFilterAttribute(params string[] roles)
    : PlacementFilterAttribute(new SiloRoleFilterStrategy(roles, order: 0));

/// <summary>Expert silos ("expert" or "all") only: routed expert grains never activate on a frontend.</summary>
public sealed class ExpertSilosOnlyAttribute() : SiloRolePlacementFilterAttribute(SiloRoles.Expert, SiloRoles.All);

/// <summary>Frontend silos ("frontend" or "all") only: grains that need the engine or the gate weights.</summary>
public sealed class FrontendSilosOnlyAttribute() : SiloRolePlacementFilterAttribute(SiloRoles.Frontend, SiloRoles.All);

/// <summary>Filters candidate silos by the role each published in its silo metadata.</summary>
public sealed class SiloRoleFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var roles = ((SiloRoleFilterStrategy)filterStrategy).Roles;
        return silos.Where(silo =>
            metadata.GetSiloMetadata(silo).Metadata.TryGetValue(SiloRoles.MetadataKey, out var role) && roles.Contains(role)).ToArray();
    }
}
