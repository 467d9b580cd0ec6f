using System.Net;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Placement;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>Session affinity: requests that share a prompt prefix go to the same frontend, whose prefix cache serves them.</summary>
public sealed class FrontendAffinityTests
{
    static int[] Prompt(int length, int salt) => Enumerable.Range(0, length).Select(i => (i * 31 + salt * 17) % 400 + 2).ToArray();

    static PlacementTarget Target(long? key) => new(GrainId.Create("dsm-completion", "x"),
        key is { } k ? new Dictionary<string, object> { [FrontendAffinity.RequestContextKey] = k } : null!, default, 0);

    [Fact]
    public void PrefixKeyPicksOneFrontendTheSameEverywhereAndSpreadsKeys()
    {
        Assert.Null(FrontendAffinity.KeyOf(Prompt(FrontendAffinity.PrefixTokens, 1)));
        Assert.Equal(FrontendAffinity.KeyOf([.. Prompt(64, 1), 5]), FrontendAffinity.KeyOf([.. Prompt(64, 1), 9, 9, 9]));
        Assert.NotEqual(FrontendAffinity.KeyOf([.. Prompt(64, 1), 5]), FrontendAffinity.KeyOf([.. Prompt(64, 2), 5]));

        var silos = Enumerable.Range(0, 3).Select(i => SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111 + i), 1)).ToArray();
        var director = new FrontendAffinityFilterDirector();
        var strategy = new FrontendAffinityFilterStrategy();
        Assert.Equal(silos, director.Filter(strategy, Target(null), silos));
        var chosen = new HashSet<SiloAddress>();
        for (int salt = 0; salt < 30; salt++)
        {
            long key = FrontendAffinity.KeyOf([.. Prompt(64, salt), 1])!.Value;
            var pick = Assert.Single(director.Filter(strategy, Target(key), silos));
            Assert.Equal(pick, Assert.Single(director.Filter(strategy, Target(key), silos.Reverse()))); // any silo ranks them alike
            var others = silos.Where(s => s != pick).ToArray();
            Assert.Equal(pick, Assert.Single(director.Filter(strategy, Target(key), [pick, others[0]]))); // another frontend leaving moves nothing
            chosen.Add(pick);
        }
        Assert.Equal(3, chosen.Count);
    }

    [Fact]
    public async Task ConversationReturnsToTheFrontendThatCachedIt()
    {
        await using var mesh = await MeshCluster.StartAsync(TestModels.Tiny, expertSilos: 2,
            roleOf: name => name is MeshCluster.FrontendName or "Silo_1" ? SiloRole.Frontend : SiloRole.Expert);
        var sampling = SamplingParams.Greedy with { MaxTokens = 3, IgnoreEos = true };
        for (int salt = 0; salt < 12; salt++)
        {
            var prefix = Prompt(80, salt);
            var first = await Complete(mesh, [.. prefix, 7]);
            var second = await Complete(mesh, [.. prefix, 8, 9]);
            Assert.Equal(0, first[0].CachedPromptTokens);
            Assert.Equal(80, second[0].CachedPromptTokens); // 5 blocks: only the frontend that served the first holds them
        }
        var frontends = new[] { mesh.Cluster.Silos.Single(s => s.Name == MeshCluster.FrontendName), mesh.Cluster.Silos.Single(s => s.Name == "Silo_1") };
        Assert.All(frontends, f => Assert.True(f.ServiceProvider.GetRequiredService<MeshFrontend>().Engine.Stats.PromptTokens > 0, "both frontends served"));

        async Task<List<SampledToken>> Complete(MeshCluster mesh, int[] prompt)
        {
            RequestContext.Set(FrontendAffinity.RequestContextKey, FrontendAffinity.KeyOf(prompt)!.Value);
            try
            {
                return await Runs.Complete(mesh.Client, prompt, sampling);
            }
            finally
            {
                RequestContext.Clear();
            }
        }
    }
}
