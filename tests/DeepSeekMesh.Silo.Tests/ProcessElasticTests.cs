using System.Collections.Concurrent;
using System.Diagnostics;
using DeepSeekMesh.Contracts.Mesh;
using DeepSeekMesh.Model.Inference;
using Microsoft.Extensions.Hosting;
using Orleans.Hosting;
using Orleans.Runtime;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>
/// Elastic expert pools as an operator runs them: `dsmesh silo` processes with Redis membership under
/// 8 continuous greedy streams. Expert silos that join take their share of the rows; one stopped with
/// SIGTERM (Kubernetes scale-in) drains: no request fails, no expert call is retried, every stream's
/// tokens equal the single process's.
/// </summary>
public sealed class ProcessElasticTests
{
    const int Streams = 8, MaxTokens = 12;
    static readonly int[][] Prompts = Enumerable.Range(0, Streams).Select(i => new[] { 11 + i, 7, 301 - i, 45, 9 + 2 * i }).ToArray();

    /// <summary>8 streams, each completing its prompt again and again until stopped; every result is checked against the single process.</summary>
    sealed class Load(SiloProcesses processes, int[][] expected)
    {
        readonly CancellationTokenSource _stop = new();
        readonly ConcurrentQueue<string> _failures = new();
        Task[] _streams = [];
        int _completed;

        public int Completed => Volatile.Read(ref _completed);
        public IReadOnlyCollection<string> Failures => _failures;

        public void Start() => _streams = Enumerable.Range(0, Streams).Select(i => Task.Run(() => Stream(i))).ToArray();

        async Task Stream(int i)
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var tokens = Runs.Ids(await Runs.Complete(processes.Client, Prompts[i], Runs.Greedy(MaxTokens)));
                    if (!tokens.SequenceEqual(expected[i])) _failures.Enqueue($"stream {i}: [{string.Join(",", tokens)}] != [{string.Join(",", expected[i])}]");
                    Interlocked.Increment(ref _completed);
                }
                catch (Exception e)
                {
                    _failures.Enqueue($"stream {i}: {e.GetType().Name}: {e.Message}");
                }
            }
        }

        public async Task StopAsync()
        {
            _stop.Cancel();
            await Task.WhenAll(_streams);
        }
    }

    static async Task<Dictionary<string, SiloReport>> Reports(SiloProcesses processes)
    {
        var hosts = await processes.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        var reports = await Task.WhenAll(hosts.Keys.Select(h => processes.Client.GetGrain<IMeshSiloGrain>(h.ToParsableString()).Describe()));
        // An agent placed on another silo (not yet known where it was placed) describes its host: skip it this round.
        return reports.Where(r => hosts.Keys.Any(h => h.ToParsableString() == r.Address)).DistinctBy(r => r.Address).ToDictionary(r => r.Address);
    }

    static int[][] Expected() =>
        Runs.SingleProcess(TestModels.Tiny, Prompts.Select(p => new GenerationRequest(p, Runs.Greedy(MaxTokens))).ToArray()).Select(r => Runs.Ids(r.Tokens)).ToArray();

    static string Logs(SiloProcesses processes) => string.Join("\n", processes.Silos.Select(s => $"--- {s.Role} :{s.SiloPort}\n{s.Log}"));

    [Fact]
    public async Task ExpertSilosThatJoinUnderLoadServeTheirShareWithinThirtySeconds()
    {
        var expected = Expected();
        var (processes, redis, clustering) = await SiloProcesses.StartWithRedisAsync(expertSilos: 1);
        await using var _ = processes;
        using var __ = redis;
        var load = new Load(processes, expected);
        load.Start();
        try
        {
            while (load.Completed < Streams) await Task.Delay(100);
            var clusterId = processes.ClusterId!;
            var joined = new[] { processes.Start("expert", TestModels.Tiny, clustering, clusterId), processes.Start("expert", TestModels.Tiny, clustering, clusterId) };
            await processes.WaitForSilosAsync(4, TimeSpan.FromSeconds(60));
            var joinedAt = Stopwatch.StartNew();
            var ports = joined.Select(j => $":{j.SiloPort}@").ToArray();
            // Each new silo serves ≥ 25% of the expert rows of a 2-second window, within 30 s of joining.
            string last = "";
            while (true)
            {
                var before = await Reports(processes);
                await Task.Delay(2000);
                var after = await Reports(processes);
                var served = after.Values.Where(r => r.Role == "expert")
                    .ToDictionary(r => r.Address, r => r.ExpertRows - (before.TryGetValue(r.Address, out var b) ? b.ExpertRows : 0));
                long total = served.Values.Sum();
                last = string.Join(", ", served.Select(p => $"{p.Key}: {p.Value}"));
                var newcomers = served.Where(p => ports.Any(port => p.Key.Contains(port.TrimEnd('@')))).ToList();
                if (total > 0 && newcomers.Count == 2 && newcomers.All(p => p.Value >= 0.25 * total)) break;
                Assert.True(joinedAt.Elapsed < TimeSpan.FromSeconds(30), $"after {joinedAt.Elapsed.TotalSeconds:F0} s the new silos serve too little: {last}\n{Logs(processes)}");
            }
            Console.WriteLine($"scale-up 1 -> 3 expert silos: each new silo served >= 25% of the rows {joinedAt.Elapsed.TotalSeconds:F1} s after joining ({last})");
        }
        finally
        {
            await load.StopAsync();
        }
        Assert.True(load.Failures.Count == 0, string.Join("\n", load.Failures.Take(5)) + "\n" + Logs(processes));
    }

    [Fact]
    public async Task AnExpertSiloStoppedWithSigtermDrainsWithoutFailuresOrRetries()
    {
        var expected = Expected();
        var (processes, redis, _) = await SiloProcesses.StartWithRedisAsync(expertSilos: 3);
        await using var __ = processes;
        using var ___ = redis;
        // wait until the frontend dispatches by a plan over the 3 expert silos
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var reports = await Reports(processes);
            if (reports.Values.Count(r => r.PlanVersion > 0) == 4) break;
            // Four processes start on 2 cores next to other test assemblies: give them time, then say what they report.
            // In 2 of 5 full CI runs one expert silo's agent kept being placed elsewhere for over 90 s (the placing silo
            // did not yet count that silo compatible for it, though membership listed it active); SiloKeyPlacementDirector
            // now trusts membership. 180 s kept: a loaded CI machine starts four processes slowly.
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(180),
                $"silos do not follow a plan: {string.Join("; ", reports.Values.Select(r => $"{r.Address} {r.Role} plan v{r.PlanVersion}"))}\n{Logs(processes)}");
            await Task.Delay(200);
        }
        var load = new Load(processes, expected);
        load.Start();
        var victim = processes.Silos.Last(s => s.Role == "expert");
        TimeSpan stopped;
        try
        {
            while (load.Completed < 2 * Streams) await Task.Delay(100);
            int completedBefore = load.Completed;
            var drainClock = Stopwatch.StartNew();
            victim.Terminate();
            Assert.True(await victim.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"the drained silo did not exit\n{victim.Log}");
            stopped = drainClock.Elapsed;
            while (load.Completed < completedBefore + 2 * Streams) await Task.Delay(100); // the survivors keep serving
        }
        finally
        {
            await load.StopAsync();
        }
        Assert.True(load.Failures.Count == 0, string.Join("\n", load.Failures.Take(5)) + "\n" + Logs(processes));
        SiloReport? frontend = null;
        for (int attempt = 0; attempt < 50 && frontend is null; attempt++, await Task.Delay(100))
            frontend = (await Reports(processes)).Values.SingleOrDefault(r => r.Role == "frontend");
        Assert.NotNull(frontend);
        Assert.Equal(0, frontend.Engine!.ExpertRetries);
        Console.WriteLine($"SIGTERM of 1 of 3 expert silos under {Streams} streams: drained and exited in {stopped.TotalSeconds:F1} s, {load.Completed} completions, 0 failed, 0 retries");
    }
}
