using DeepSeekMesh.Silo.Experts;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Mesh;
using DeepSeekMesh.Silo.Plan;
using Microsoft.Extensions.DependencyInjection.Extensions;
using DeepSeekMesh.Silo.Placement;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;

namespace DeepSeekMesh.Silo.Hosting;

public static class MeshSiloBuilderExtensions
{
    /// <summary>The grain directory of completion grains (every silo of the cluster must register it).</summary>
    public const string CompletionDirectory = "dsm-completions";

    /// <summary>
    /// Makes this silo a mesh silo of the given role: publishes the role as silo metadata, adds the
    /// role placement filter (expert grains only on expert/all silos, completion and router grains
    /// only on frontend/all silos), placement by the expert placement plan (and its follower, which
    /// drains expert silos on stop), the model store, and on frontends the engine, loaded at start.
    /// Clustering and endpoints are the caller's (see <see cref="MeshSiloHost"/>, or TestingHost).
    /// </summary>
    public static ISiloBuilder AddDeepSeekMesh(this ISiloBuilder silo, MeshSiloOptions options)
    {
        var metadata = new Dictionary<string, string>
        {
            [SiloRoles.MetadataKey] = options.Role.Name(),
            ["model"] = options.EffectiveModelId,
        };
        if (options.ExpertCapacity is { } capacity) metadata[ExpertPlanGrain.CapacityMetadataKey] = capacity.ToString(System.Globalization.CultureInfo.InvariantCulture);
        silo.UseSiloMetadata(metadata);
        // Completion grains keep an in-flight enumeration; with the default directory a crashed silo that
        // owned their directory partition makes the frontend deactivate them (the stream is lost). The
        // distributed directory recovers the partition from the live activations instead.
        silo.AddDistributedGrainDirectory(CompletionDirectory);
        var services = silo.Services;
        services.AddPlacementFilter<SiloRoleFilterStrategy, SiloRoleFilterDirector>(ServiceLifetime.Transient);
        services.AddPlacementFilter<FrontendAffinityFilterStrategy, FrontendAffinityFilterDirector>(ServiceLifetime.Transient);
        services.AddPlacementDirector<ExpertPlanPlacement, ExpertPlanPlacementDirector>();
        services.AddPlacementDirector<SiloKeyPlacement, SiloKeyPlacementDirector>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ExpertPlanCache>();
        services.AddSingleton<LocalExperts>();
        services.AddSingleton<ExpertPlanFollower>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(sp => sp.GetRequiredService<ExpertPlanFollower>());
        services.AddSingleton(Options.Create(options));
        services.AddSingleton<ModelStore>();
        services.AddSingleton<MeshFrontend>();
        services.AddSingleton<SiloActivity>();
        services.AddHostedService<MeshStartup>();
        if (options.FastFailureDetection)
        {
            services.Configure<ClusterMembershipOptions>(m =>
            {
                m.ProbeTimeout = TimeSpan.FromSeconds(1);
                m.NumMissedProbesLimit = 2;
                m.NumVotesForDeathDeclaration = 1;
                m.TableRefreshTimeout = TimeSpan.FromSeconds(1);
                m.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
            });
            // After a crash the distributed directory holds the dead owner's ranges under a lease
            // (default 30 s minus the detection window: ~22 s with the settings above), and the
            // completion streams whose entries lived there stall for that long. A completion grain
            // duplicated by a falsely declared death would only lose its stream, so no lease.
            services.Configure<GrainDirectoryOptions>(d => d.RangeLeaseDuration = TimeSpan.Zero);
        }
        return silo;
    }
}

/// <summary>Opens the model directory at silo start (every role) and loads the engine on frontends, so bad models fail early.</summary>
sealed class MeshStartup(ModelStore store, MeshFrontend frontend, ILogger<MeshStartup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var config = store.Config;
        logger.LogInformation("mesh silo role {Role}: model {Model} ({Layers} layers, {Experts} routed experts per MoE layer)",
            store.Options.Role.Name(), store.Options.EffectiveModelId, config.NumHiddenLayers, config.NRoutedExperts);
        if (frontend.Enabled) _ = frontend.Engine;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
