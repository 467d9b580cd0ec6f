using DeepSeekMesh.Contracts;
using DeepSeekMesh.Contracts.Placement;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Mesh;
using Microsoft.Extensions.DependencyInjection;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>
/// Expert pools that follow the placement plan in a real multi-silo cluster: one message per expert
/// silo per MoE layer, silos that join get their share, a stopping silo drains without a retry, hot
/// experts get replicas — and the tokens stay those of one process.
/// </summary>
public sealed class ElasticExpertTests
{
    static readonly int[][] Prompts = Enumerable.Range(0, 8).Select(i => new[] { 5 + i, 9, 300 + i, 17, 40 + 3 * i }).ToArray();

    static GenerationRequest[] Requests(int maxTokens) => Prompts.Select(p => new GenerationRequest(p, Runs.Greedy(maxTokens))).ToArray();

    /// <summary>Every prompt through its own completion grain, all at once (the engine batches them).</summary>
    static async Task<int[][]> Streams(MeshCluster mesh, int maxTokens) =>
        (await Task.WhenAll(Prompts.Select(p => Runs.Complete(mesh.Client, p, Runs.Greedy(maxTokens))))).Select(Runs.Ids).ToArray();

    static ExpertTrafficStats Traffic(MeshCluster mesh) => mesh.FrontendService<MeshFrontend>().ExpertTraffic!;

    [Fact]
    public async Task OneMessagePerExpertSiloPerMoeLayer()
    {
        var dir = TestModels.Tiny;
        var expected = Runs.SingleProcess(dir, Requests(6));
        await using var mesh = await MeshCluster.StartAsync(dir, expertSilos: 2);
        await mesh.WaitForPlanAsync(2);

        var (results, traffic) = await Runs.ThroughGrains(mesh, Requests(6)); // batch 8
        for (int i = 0; i < Prompts.Length; i++) Assert.Equal(Runs.Ids(expected[i].Tokens), Runs.Ids(results[i].Tokens));
        Assert.True(traffic.LayerSteps > 0);
        Assert.InRange(traffic.Calls, traffic.LayerSteps, traffic.LayerSteps * 2); // ≤ MoE layers × expert silos per forward
        Assert.Equal(0, traffic.Retries);
        Assert.All(mesh.ExpertRowsBySilo().Values, rows => Assert.True(rows > 0));
    }

    [Fact]
    public async Task JoiningExpertSilosTakeTheirShareAndTokensStayTheSame()
    {
        var dir = TestModels.Tiny;
        var expected = Runs.SingleProcess(dir, Requests(8)).Select(r => Runs.Ids(r.Tokens)).ToArray();
        await using var mesh = await MeshCluster.StartAsync(dir, expertSilos: 1);
        await mesh.WaitForPlanAsync(1);
        Assert.Equal(expected, await Streams(mesh, 8));

        await mesh.AddExpertSiloAsync();
        await mesh.AddExpertSiloAsync();
        var plan = await mesh.WaitForPlanAsync(3);
        await mesh.WaitForPlacementAsync(plan, TimeSpan.FromSeconds(30)); // the experts the join moved have migrated
        var before = mesh.ExpertRowsBySilo();
        var retries = Traffic(mesh).Retries;
        Assert.Equal(expected, await Streams(mesh, 8));

        var served = mesh.ExpertRowsBySilo().ToDictionary(p => p.Key, p => p.Value - before.GetValueOrDefault(p.Key));
        long total = served.Values.Sum();
        Assert.Equal(3, served.Count);
        foreach (var (silo, rows) in served)
            Assert.True(rows >= 0.2 * total, $"{silo} served {rows} of {total} rows after the join ({plan})");
        Assert.Equal(retries, Traffic(mesh).Retries);
    }

    [Fact]
    public async Task AStoppingExpertSiloDrainsWithoutARetry()
    {
        var dir = TestModels.Tiny;
        const int maxTokens = 40;
        var expected = Runs.SingleProcess(dir, Requests(maxTokens)).Select(r => Runs.Ids(r.Tokens)).ToArray();
        await using var mesh = await MeshCluster.StartAsync(dir, expertSilos: 3);
        var plan = await mesh.WaitForPlanAsync(3);
        var victim = mesh.ExpertSilos[1];
        var victimAddress = victim.SiloAddress.ToParsableString();
        Assert.NotEmpty(plan.On(victimAddress));

        var streams = Streams(mesh, maxTokens);
        while (mesh.FrontendService<MeshFrontend>().ExpertTraffic!.LayerSteps < 20) await Task.Delay(20);
        await mesh.Cluster.StopSiloAsync(victim); // graceful: the silo drains first

        Assert.Equal(expected, await streams);
        Assert.Equal(0, Traffic(mesh).Retries);
        var after = mesh.FrontendService<Plan.ExpertPlanCache>().Current!;
        Assert.DoesNotContain(victimAddress, after.Silos);
    }

    [Fact]
    public async Task HotExpertsGetReplicasAndTheirRowsAreSplit()
    {
        var dir = TestModels.Tiny;
        var expected = Runs.SingleProcess(dir, Requests(6), keepLogits: true);
        await using var mesh = await MeshCluster.StartAsync(dir, expertSilos: 3);
        var plan = await mesh.WaitForPlanAsync(3);
        // Measured load: experts 2 and 5 of every MoE layer carry nearly every token.
        var stats = mesh.Client.GetGrain<IExpertStatsGrain>(mesh.Options.EffectiveModelId);
        foreach (var layer in plan.Layers)
            await stats.Report(new ExpertLoadReport { Layer = layer, Tokens = Enumerable.Range(0, plan.ExpertsPerLayer).Select(e => e is 2 or 5 ? 50_000L : 10L).ToArray() });
        while ((await stats.GetRecentLoad(TimeSpan.FromMinutes(1))).TokensPerExpert.Values.Sum(t => t.Length > 2 ? t[2] : 0) < 50_000L * plan.Layers.Length)
            await Task.Delay(50); // Report is one-way
        var replanned = await mesh.Client.GetGrain<IExpertPlanGrain>(mesh.Options.EffectiveModelId).Replan();
        foreach (var layer in replanned.Layers)
        {
            Assert.Equal(3, replanned.ReplicasOf(layer, 2).Distinct().Count());
            Assert.Equal(3, replanned.ReplicasOf(layer, 5).Distinct().Count());
        }
        while (mesh.FrontendService<Plan.ExpertPlanCache>().Version < replanned.Version) await Task.Delay(50);

        var (results, traffic) = await Runs.ThroughGrains(mesh, Requests(6), keepLogits: true);
        for (int i = 0; i < Prompts.Length; i++)
        {
            Assert.Equal(Runs.Ids(expected[i].Tokens), Runs.Ids(results[i].Tokens));
            for (int step = 0; step < expected[i].Logits!.Count; step++)
                Runs.AssertClose(expected[i].Logits![step], results[i].Logits![step], 1e-4, $"sequence {i} step {step}");
        }
        Assert.Equal(0, traffic.Retries);
        // the replicas really ran: every silo hosts replicas 1 or 2 of the hot experts
        var replicaHosts = mesh.ExpertSilos.Count(s => s.ServiceProvider.GetRequiredService<Experts.LocalExperts>().Hosted.Any(r => r.Replica > 0));
        Assert.True(replicaHosts >= 2, $"{replicaHosts} silos host a hot expert's extra replica");
    }

    [Fact]
    public async Task WithHotExpertsFromTheGateTheBusiestSiloServesAtMostAQuarterAboveTheMean()
    {
        var dir = TestModels.SkewedTiny;
        var expected = Runs.SingleProcess(dir, Requests(16)).Select(r => Runs.Ids(r.Tokens)).ToArray();
        await using var mesh = await MeshCluster.StartAsync(dir, expertSilos: 3,
            configure: o => o with { Plan = o.Plan with { RebalancePeriod = TimeSpan.FromSeconds(1) }, LoadReportPeriod = TimeSpan.FromMilliseconds(200) });
        var plan = await mesh.WaitForPlanAsync(3);
        int layer = plan.Layers[0];

        // Unreplicated, the hot experts' silos carry most rows.
        Assert.Equal(expected, await Streams(mesh, 16));
        var cache = mesh.FrontendService<Plan.ExpertPlanCache>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (cache.Current!.ReplicasOf(layer, 2).Length < 2 || cache.Current.ReplicasOf(layer, 5).Length < 2)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"no replicas of the hot experts: {cache.Current}");
            await Task.Delay(100);
        }
        // The rebalancer replans every second from the load reported so far, so the first plan with replicas may
        // come from part of the run (in one full CI run that gave 619 / 801 / 500 rows: 1.25x the mean). Measure under
        // a plan made from the whole run's load (reports every 200 ms), once its moves are done.
        await Task.Delay(1000);
        var replicated = await mesh.Client.GetGrain<IExpertPlanGrain>(mesh.Options.EffectiveModelId).Replan();
        while (cache.Version < replicated.Version) await Task.Delay(50);
        await mesh.WaitForPlacementAsync(replicated, TimeSpan.FromSeconds(30));

        var before = mesh.ExpertRowsBySilo();
        Assert.Equal(expected, await Streams(mesh, 16));
        var served = mesh.ExpertRowsBySilo().Select(p => p.Value - before[p.Key]).ToArray();
        double mean = served.Average();
        Assert.True(served.Max() <= 1.25 * mean, $"rows per silo {string.Join(", ", served)} under {replicated}");
        Assert.Equal(0, Traffic(mesh).Retries);
        Console.WriteLine($"skew (experts 2, 5 hot): rows per expert silo with replicas {string.Join(", ", served)}, busiest/mean {served.Max() / mean:F2}");
    }
}
