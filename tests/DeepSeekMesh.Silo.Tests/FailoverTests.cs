using DeepSeekMesh.Model.Inference;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>An expert silo lost mid-generation: its experts re-activate on the surviving expert silo and the sequence continues.</summary>
public sealed class FailoverTests
{
    [Fact]
    public async Task ExpertSiloKilledMidGenerationStillGivesTheSameTokens()
    {
        var dir = TestModels.Tiny;
        var requests = new[] { new GenerationRequest([17, 4, 250, 33, 2, 96], Runs.Greedy(12)) };
        var expected = Runs.SingleProcess(dir, requests);

        await using var mesh = await MeshCluster.StartAsync(dir);
        var killed = false;
        int victimExperts = 0;
        var (results, traffic) = await Runs.ThroughGrains(mesh, requests, onToken: (_, token) =>
        {
            if (killed) return true;
            // After the third token (experts of every layer are active on both silos by then), kill an
            // expert silo that hosts some of them; the generator thread is blocked meanwhile.
            var experts = mesh.ActivationsAsync("dsm-expert").GetAwaiter().GetResult();
            if (experts.Count < 2 || experts.Values.Sum(v => v.Count) < 8) return true;
            var victim = mesh.ExpertSilos.First(s => experts.ContainsKey(s.SiloAddress));
            victimExperts = experts[victim.SiloAddress].Count;
            mesh.Cluster.KillSiloAsync(victim).GetAwaiter().GetResult();
            killed = true;
            return true;
        });

        Assert.True(killed);
        Assert.Equal(Runs.Ids(expected[0].Tokens), Runs.Ids(results[0].Tokens));
        Assert.True(victimExperts > 0);
        var after = await mesh.ActivationsAsync("dsm-expert");
        Assert.Equal([mesh.ExpertSilos.Single().SiloAddress], after.Keys);
        Console.WriteLine($"failover: {victimExperts} experts lost with their silo; {traffic}");
    }

    [Fact]
    public async Task ExpertCallsWaitForAnExpertSiloToJoin()
    {
        var dir = TestModels.Conformance("tiny-a");
        var requests = new[] { new GenerationRequest([5, 9, 300], Runs.Greedy(4)) };
        var expected = Runs.SingleProcess(dir, requests);

        // A frontend alone: expert calls find no compatible silo until an expert silo joins.
        await using var mesh = await MeshCluster.StartAsync(dir, expertSilos: 0);
        var generation = Runs.ThroughGrains(mesh, requests);
        await Task.Delay(300);
        Assert.False(generation.IsCompleted);
        await mesh.Cluster.StartAdditionalSiloAsync();
        var (results, traffic) = await generation;
        Assert.Equal(Runs.Ids(expected[0].Tokens), Runs.Ids(results[0].Tokens));
        Assert.True(traffic.Retries > 0);
        Console.WriteLine($"late expert silo: {traffic}");
    }
}
