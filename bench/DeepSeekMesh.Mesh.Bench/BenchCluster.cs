using DeepSeekMesh.Silo;
using DeepSeekMesh.Silo.Hosting;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Plan;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace DeepSeekMesh.Mesh.Bench;

/// <summary>An in-process Orleans cluster of one frontend silo (Silo_0) and expert silos, as the mesh tests start it.</summary>
sealed class BenchCluster(InProcessTestCluster cluster) : IAsyncDisposable
{
    const string FrontendName = "Silo_0";

    public static async Task<BenchCluster> StartAsync(MeshSiloOptions options, int expertSilos = 2)
    {
        var builder = new InProcessTestClusterBuilder((short)(1 + expertSilos));
        builder.ConfigureSilo((silo, siloBuilder) => siloBuilder.AddDeepSeekMesh(options with
        {
            Role = silo.SiloName == FrontendName ? SiloRole.Frontend : SiloRole.Expert,
        }));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        var bench = new BenchCluster(cluster);
        // Dispatch by the placement plan: wait until the frontend follows one over every expert silo.
        var plans = bench.FrontendService<ExpertPlanCache>();
        for (var deadline = DateTime.UtcNow.AddSeconds(60); plans.Current is not { IsComplete: true } p || p.Silos.Length != expertSilos;)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"no placement plan over {expertSilos} expert silos");
            await Task.Delay(100);
        }
        return bench;
    }

    T FrontendService<T>() where T : notnull => cluster.Silos.Single(s => s.Name == FrontendName).ServiceProvider.GetRequiredService<T>();

    /// <summary>The frontend silo's engine and expert traffic, exactly what serves completions there.</summary>
    public MeshFrontend Frontend => FrontendService<MeshFrontend>();

    /// <summary>Per expert silo: rows computed, rows forwarded to a grain elsewhere, time computing batches.</summary>
    public IEnumerable<DeepSeekMesh.Silo.Mesh.SiloActivity> ExpertActivity =>
        cluster.Silos.Where(s => s.Name != FrontendName).Select(s => s.ServiceProvider.GetRequiredService<DeepSeekMesh.Silo.Mesh.SiloActivity>());

    public async ValueTask DisposeAsync()
    {
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
    }
}
