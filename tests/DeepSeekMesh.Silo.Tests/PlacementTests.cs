using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Mesh;
using Microsoft.Extensions.DependencyInjection;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>Role placement, checked against the management grain's activation table.</summary>
public sealed class PlacementTests
{
    [Fact]
    public async Task ExpertsActivateOnlyOnExpertSilosRoutersAndCompletionsOnlyOnTheFrontend()
    {
        await using var mesh = await MeshCluster.StartAsync(TestModels.Tiny);
        var frontend = mesh.Frontend.SiloAddress;
        var expertSilos = mesh.ExpertSilos.Select(s => s.SiloAddress).ToHashSet();
        // Experts follow the placement plan: wait until it spans both expert silos. A step taken before the
        // second joined the plan can put every expert on the first (this test failed once in a full run).
        await mesh.WaitForPlanAsync(expertSilos: 2);

        // The frontend itself calls the experts (as its engine does), and a completion streams through the engine.
        var requests = new[] { new GenerationRequest([3, 14, 15, 92, 65], Runs.Greedy(6)) };
        await Runs.ThroughGrains(mesh, requests);

        // A completion requested from an EXPERT silo (as a gateway connected to it would) still runs on the frontend.
        var fromExpertSilo = mesh.ExpertSilos[0].ServiceProvider.GetRequiredService<IGrainFactory>();
        var grain = fromExpertSilo.GetGrain<ICompletionGrain>("placement-check");
        await using (var stream = grain.Generate([3, 14, 15], Runs.Greedy(400)).GetAsyncEnumerator())
        {
            Assert.True(await stream.MoveNextAsync());
            var completions = await mesh.ActivationsAsync("dsm-completion");
            Assert.Equal([frontend], completions.Keys);
        }

        var experts = await mesh.ActivationsAsync("dsm-expert");
        var config = Model.Config.ModelConfig.Load(TestModels.Tiny);
        int moeLayers = Enumerable.Range(0, config.NumHiddenLayers).Count(config.IsMoeLayer);
        Assert.True(experts.Values.Sum(v => v.Count) > moeLayers, "experts were activated");
        Assert.Subset(expertSilos, experts.Keys.ToHashSet());
        Assert.Equal(2, experts.Keys.Count); // random placement spreads 40+ experts over both expert silos
        Assert.DoesNotContain(frontend, experts.Keys);

        // Router grains are stateless workers (not in the management grain's listing): each silo counts its own.
        var frontendRouters = mesh.Frontend.ServiceProvider.GetRequiredService<SiloActivity>().RouterActivations;
        Assert.Equal(Enumerable.Range(0, config.NumHiddenLayers).Where(config.IsMoeLayer), frontendRouters.Keys.Order());
        Assert.All(frontendRouters.Values, n => Assert.Equal(1, n));
        Assert.All(mesh.ExpertSilos, s => Assert.Empty(s.ServiceProvider.GetRequiredService<SiloActivity>().RouterActivations));
        Assert.All(mesh.ExpertSilos, s => Assert.True(s.ServiceProvider.GetRequiredService<SiloActivity>().ExpertActivations > 0));
        Assert.Equal(0, mesh.Frontend.ServiceProvider.GetRequiredService<SiloActivity>().ExpertActivations);

        // Asking an expert directly from the frontend: it answers from an expert silo.
        var info = await mesh.FrontendGrains.GetExpertGrain(1, 0).Describe();
        Assert.Equal("expert", info.Role);
        Assert.Contains(expertSilos, s => s.ToString() == info.Silo);
    }

    [Fact]
    public async Task AnAllInOneSiloServesEverything()
    {
        await using var mesh = await MeshCluster.StartAsync(TestModels.Conformance("tiny-a"), expertSilos: 0, roleOf: _ => SiloRole.All);
        var requests = new[] { new GenerationRequest([5, 9, 300], Runs.Greedy(5)) };
        var expected = Runs.SingleProcess(mesh.Options.ModelDirectory, requests);
        var streamed = await Runs.Complete(mesh.Client, [5, 9, 300], Runs.Greedy(5));
        Assert.Equal(Runs.Ids(expected[0].Tokens), Runs.Ids(streamed));
        var experts = await mesh.ActivationsAsync("dsm-expert");
        Assert.Equal([mesh.Frontend.SiloAddress], experts.Keys);
    }
}
