using DeepSeekMesh.Contracts.Placement;
using DeepSeekMesh.Silo.Hosting;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Mesh;
using DeepSeekMesh.Silo.Plan;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>A real in-process Orleans cluster: Silo_0 is the frontend, the others are expert silos.</summary>
public sealed class MeshCluster : IAsyncDisposable
{
    public InProcessTestCluster Cluster { get; }
    public MeshSiloOptions Options { get; }

    MeshCluster(InProcessTestCluster cluster, MeshSiloOptions options)
    {
        Cluster = cluster;
        Options = options;
    }

    public const string FrontendName = "Silo_0";

    public static async Task<MeshCluster> StartAsync(string modelDirectory, int expertSilos = 2, Func<MeshSiloOptions, MeshSiloOptions>? configure = null,
        Func<string, SiloRole>? roleOf = null, Func<string, string>? modelOf = null, Action<ISiloBuilder>? configureSilo = null)
    {
        var options = new MeshSiloOptions { ModelDirectory = modelDirectory, ModelId = "test" };
        if (configure is not null) options = configure(options);
        roleOf ??= name => name == FrontendName ? SiloRole.Frontend : SiloRole.Expert;
        var builder = new InProcessTestClusterBuilder((short)(1 + expertSilos));
        builder.ConfigureSilo((silo, siloBuilder) =>
        {
            siloBuilder.AddDeepSeekMesh(options with
            {
                Role = roleOf(silo.SiloName),
                ModelDirectory = modelOf?.Invoke(silo.SiloName) ?? options.ModelDirectory,
            });
            configureSilo?.Invoke(siloBuilder);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new MeshCluster(cluster, options);
    }

    public IClusterClient Client => Cluster.Client;

    public InProcessSiloHandle Frontend => Cluster.Silos.Single(s => s.Name == FrontendName);

    public IReadOnlyList<InProcessSiloHandle> ExpertSilos => Cluster.Silos.Where(s => s.Name != FrontendName).ToArray();

    /// <summary>The frontend silo's grain factory: calls made through it are placed by the frontend, as the engine's are.</summary>
    public IGrainFactory FrontendGrains => Frontend.ServiceProvider.GetRequiredService<IGrainFactory>();

    public T FrontendService<T>() where T : notnull => Frontend.ServiceProvider.GetRequiredService<T>();

    /// <summary>Activations of a grain type ("dsm-expert", "dsm-router", …) per silo, from the management grain.</summary>
    public async Task<Dictionary<SiloAddress, List<GrainId>>> ActivationsAsync(string grainType)
    {
        var stats = await Client.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics();
        return stats.Where(s => s.GrainId.Type.ToString() == grainType)
            .GroupBy(s => s.SiloAddress)
            .ToDictionary(g => g.Key, g => g.Select(s => s.GrainId).ToList());
    }

    /// <summary>Waits until the frontend follows a complete placement plan over <paramref name="expertSilos"/> expert silos.</summary>
    public async Task<ExpertPlacementPlan> WaitForPlanAsync(int expertSilos, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            if (FrontendService<ExpertPlanCache>().Current is { IsComplete: true } plan && plan.Silos.Length == expertSilos) return plan;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no plan over {expertSilos} expert silos; the frontend follows {FrontendService<ExpertPlanCache>().Current}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until no expert silo hosts a replica that <paramref name="plan"/> puts elsewhere (the moves are done).</summary>
    public async Task WaitForPlacementAsync(ExpertPlacementPlan plan, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var misplaced = ExpertSilos.Sum(s => s.ServiceProvider.GetRequiredService<Experts.LocalExperts>().Hosted
                .Count(r => plan.SiloOf(r.Layer, r.Expert, r.Replica) != s.SiloAddress.ToParsableString()));
            if (misplaced == 0) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{misplaced} expert replicas are not where {plan} puts them");
            await Task.Delay(100);
        }
    }

    /// <summary>A new expert silo joins the running mesh.</summary>
    public Task<InProcessSiloHandle> AddExpertSiloAsync() => Cluster.StartAdditionalSiloAsync();

    /// <summary>Expert rows each expert silo has computed so far.</summary>
    public Dictionary<string, long> ExpertRowsBySilo() =>
        ExpertSilos.ToDictionary(s => s.Name, s => s.ServiceProvider.GetRequiredService<SiloActivity>().ExpertRows);

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }
}
