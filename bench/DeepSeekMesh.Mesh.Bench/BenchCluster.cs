using DeepSeekMesh.Silo;
using DeepSeekMesh.Silo.Hosting;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Mesh;
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
        return new BenchCluster(cluster);
    }

    /// <summary>The frontend silo's engine and expert traffic, exactly what serves completions there.</summary>
    public MeshFrontend Frontend => cluster.Silos.Single(s => s.Name == FrontendName).ServiceProvider.GetRequiredService<MeshFrontend>();

    public async ValueTask DisposeAsync()
    {
        await cluster.StopAllSilosAsync();
        await cluster.DisposeAsync();
    }
}
