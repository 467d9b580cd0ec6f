using Orleans.Runtime;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Mesh;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>Completion grains: refusals cross the wire with their reason, cancellation frees the sequence, routers report load.</summary>
public sealed class CompletionGrainTests
{
    [Fact]
    public async Task RefusalsCarryTheirReasonAndCancellationFreesTheSequence()
    {
        var dir = TestModels.Tiny;
        await using var mesh = await MeshCluster.StartAsync(dir, expertSilos: 1);

        var tooLarge = await Assert.ThrowsAsync<CompletionRejectedException>(() =>
            Runs.Complete(mesh.Client, [1, 2, 3], Runs.Greedy(5000)));
        Assert.Equal(CompletionRejection.TooLarge, tooLarge.Reason);

        var invalid = await Assert.ThrowsAsync<CompletionRejectedException>(() =>
            Runs.Complete(mesh.Client, [1, 2, 3], new SamplingParams { Temperature = 5, MaxTokens = 3 }));
        Assert.Equal(CompletionRejection.InvalidRequest, invalid.Reason);
        Assert.Equal("temperature", invalid.Parameter);

        var badPrompt = await Assert.ThrowsAsync<CompletionRejectedException>(() =>
            Runs.Complete(mesh.Client, [1, 100000], Runs.Greedy(3)));
        Assert.Equal(CompletionRejection.InvalidRequest, badPrompt.Reason);

        // Cancel a long generation after a few tokens: the engine frees its cache blocks.
        var engine = mesh.FrontendService<MeshFrontend>().Engine;
        using var cancel = new CancellationTokenSource();
        var received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in mesh.Client.GetGrain<ICompletionGrain>("cancelled")
                               .Generate([4, 5, 6], Runs.Greedy(3000), cancel.Token))
                if (++received == 3) cancel.Cancel();
        });
        Assert.True(received >= 3);
        await WaitUntil(() => engine.Stats is { Running: 0, Waiting: 0, CacheBlocksUsed: 0 }, "cancelled sequence freed");

        // Leaving the enumeration early (no token) ends the sequence too.
        await foreach (var _ in mesh.Client.GetGrain<ICompletionGrain>("abandoned").Generate([7, 8], Runs.Greedy(3000)))
            break;
        await WaitUntil(() => engine.Stats is { Running: 0, Waiting: 0, CacheBlocksUsed: 0 }, "abandoned sequence freed");
        Assert.True(engine.Stats.TokensGenerated < 500);
    }

    [Fact]
    public async Task AFullWaitingQueueIsOverloaded()
    {
        await using var mesh = await MeshCluster.StartAsync(TestModels.Conformance("tiny-a"), expertSilos: 1,
            configure: o => o with { Engine = o.Engine with { MaxWaitingRequests = 0 } });
        var e = await Assert.ThrowsAsync<CompletionRejectedException>(() => Runs.Complete(mesh.Client, [1, 2, 3], Runs.Greedy(3)));
        Assert.Equal(CompletionRejection.Overloaded, e.Reason);
    }

    [Fact]
    public async Task RoutersReportPerExpertLoadToTheStatsGrain()
    {
        var dir = TestModels.Tiny;
        await using var mesh = await MeshCluster.StartAsync(dir, expertSilos: 1,
            configure: o => o with { LoadReportPeriod = TimeSpan.FromMilliseconds(100) });
        int[] prompt = [10, 20, 30, 40, 50];
        const int generated = 6;
        await Runs.Complete(mesh.Client, prompt, Runs.Greedy(generated));

        var config = Model.Config.ModelConfig.Load(dir);
        var moeLayers = Enumerable.Range(0, config.NumHiddenLayers).Where(config.IsMoeLayer).ToArray();
        long perLayer = (long)(prompt.Length + generated - 1) * config.NumExpertsPerTok; // every token fed, k experts each
        var stats = mesh.Client.GetGrain<IExpertStatsGrain>("test");
        ExpertLoad load = new();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(50))
        {
            load = await stats.GetLoad();
            if (load.Total == perLayer * moeLayers.Length) break;
        }
        Assert.Equal(moeLayers, load.TokensPerExpert.Keys.Order());
        Assert.All(load.TokensPerExpert.Values, counts =>
        {
            Assert.Equal(config.NRoutedExperts, counts.Length);
            Assert.Equal(perLayer, counts.Sum());
        });
    }

    /// <summary>
    /// A completion grain serves one request and leaves: finished, cancelled, refused, or left by a
    /// caller that asked where it lives and never started the generation (a gateway whose client went
    /// away). None may stay for Orleans' collection age: under load each kept its state and timers
    /// (the soak's frontend grew by them).
    /// </summary>
    [Fact]
    public async Task CompletionGrainsDeactivateHoweverTheRequestEnds()
    {
        await using var mesh = await MeshCluster.StartAsync(TestModels.Tiny, expertSilos: 1,
            configure: o => o with { CompletionStartTimeout = TimeSpan.FromSeconds(1) });
        await Runs.Complete(mesh.Client, [1, 2, 3], Runs.Greedy(3), "finished");

        using (var cancel = new CancellationTokenSource())
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                await foreach (var _ in mesh.Client.GetGrain<ICompletionGrain>("cancelled").Generate([4, 5, 6], Runs.Greedy(3000), cancel.Token))
                    cancel.Cancel();
            });

        await Assert.ThrowsAsync<CompletionRejectedException>(() => Runs.Complete(mesh.Client, [1, 2, 3], Runs.Greedy(5000), "refused"));

        await mesh.Client.GetGrain<ICompletionGrain>("asked-where-only").Silo();

        var tokens = mesh.Client.GetGrain<ICompletionGrain>("disposed-unstarted").Generate([7, 8], Runs.Greedy(3)).GetAsyncEnumerator();
        await mesh.Client.GetGrain<ICompletionGrain>("disposed-unstarted").Silo();
        await tokens.DisposeAsync();

        var left = new List<GrainId>();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(20); await Task.Delay(200))
        {
            left = (await mesh.ActivationsAsync("dsm-completion")).Values.SelectMany(g => g).ToList();
            if (left.Count == 0) break;
        }
        Assert.True(left.Count == 0, $"completion grains still active: {string.Join(", ", left)}");
    }

    static async Task WaitUntil(Func<bool> condition, string what)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); !condition(); await Task.Delay(20))
            if (clock.Elapsed > TimeSpan.FromSeconds(10)) Assert.Fail($"timed out waiting: {what}");
    }
}
