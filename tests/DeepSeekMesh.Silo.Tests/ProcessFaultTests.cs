using System.Collections.Concurrent;
using System.Diagnostics;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Inference;
using Microsoft.Extensions.Hosting;
using Orleans.Hosting;
using Orleans.Runtime;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>
/// Parts of a production mesh dying under load, as separate `dsmesh silo` processes with Redis
/// membership: an expert silo killed with SIGKILL under 32 streams, and the membership store itself
/// unreachable for 10 s. Nothing a client sent is lost and the tokens are those of one process.
/// </summary>
public sealed class ProcessFaultTests
{
    static int[][] PromptsOf(int count) => Enumerable.Range(0, count).Select(i => new[] { 3 + i, 70, 200 + 3 * i, 45, 11 + i % 7 }).ToArray();

    static int[][] Expected(int[][] prompts, int maxTokens) =>
        Runs.SingleProcess(TestModels.Tiny, prompts.Select(p => new GenerationRequest(p, Runs.Greedy(maxTokens))).ToArray()).Select(r => Runs.Ids(r.Tokens)).ToArray();

    static string Logs(SiloProcesses processes) => string.Join("\n", processes.Silos.Select(s => $"--- {s.Role} :{s.SiloPort}\n{s.Log}"));

    static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0) return 0;
        values.Sort();
        return values[Math.Min(values.Count - 1, (int)Math.Ceiling(p * values.Count) - 1)];
    }

    [Fact]
    public async Task AnExpertSiloKilledUnder32StreamsLosesNoStreamAndNoToken()
    {
        const int streams = 32, maxTokens = 24;
        var prompts = PromptsOf(streams);
        var expected = Expected(prompts, maxTokens);
        var (processes, redis, _) = await SiloProcesses.StartWithRedisAsync(expertSilos: 3);
        await using var _ = processes;
        using var __ = redis;
        var victim = processes.Silos.Last(s => s.Role == "expert");
        var clock = Stopwatch.StartNew();
        var gaps = new ConcurrentBag<(double At, double Gap)>();
        int tokensSeen = 0;
        double killedAt = double.NaN;
        var results = await Task.WhenAll(prompts.Select((prompt, i) => Task.Run(async () =>
        {
            var ids = new List<int>();
            double last = clock.Elapsed.TotalMilliseconds;
            await foreach (var token in processes.Client.GetGrain<ICompletionGrain>($"kill-{i}").Generate(prompt, Runs.Greedy(maxTokens)))
            {
                double now = clock.Elapsed.TotalMilliseconds;
                if (ids.Count > 0) gaps.Add((now, now - last));
                last = now;
                ids.Add(token.TokenId);
                if (Interlocked.Increment(ref tokensSeen) == streams * 4)
                {
                    victim.Kill(); // SIGKILL a quarter of the way in: no drain, no goodbye
                    killedAt = clock.Elapsed.TotalMilliseconds;
                }
            }
            return ids.ToArray();
        }))).WithLogsOnFailure(processes);
        Assert.False(double.IsNaN(killedAt));
        for (int i = 0; i < streams; i++)
            Assert.True(expected[i].SequenceEqual(results[i]), $"stream {i}: [{string.Join(",", results[i])}] != [{string.Join(",", expected[i])}]\n{Logs(processes)}");
        var recovery = gaps.Where(g => g.At >= killedAt && g.At <= killedAt + 10_000).Select(g => g.Gap).ToList();
        var steady = gaps.Where(g => g.At < killedAt).Select(g => g.Gap).ToList();
        Console.WriteLine($"kill -9 of 1 of 3 expert silos under {streams} streams: {streams}/{streams} complete and equal their solo runs; " +
            $"inter-token p50/p99 {Percentile(steady, 0.5):F0}/{Percentile(steady, 0.99):F0} ms before, {Percentile(recovery, 0.5):F0}/{Percentile(recovery, 0.99):F0} ms in the 10 s after the kill");
    }

    [Fact]
    public async Task TheMembershipStorePausedForTenSecondsUnderLoadStopsNothing()
    {
        const int streams = 8, maxTokens = 12;
        var prompts = PromptsOf(streams);
        var expected = Expected(prompts, maxTokens);
        var (processes, redis, _) = await SiloProcesses.StartWithRedisAsync(expertSilos: 2);
        await using var _ = processes;
        using var __ = redis;
        var failures = new ConcurrentQueue<string>();
        int completed = 0;
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, streams).Select(i => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var ids = Runs.Ids(await Runs.Complete(processes.Client, prompts[i], Runs.Greedy(maxTokens)));
                    if (!ids.SequenceEqual(expected[i])) failures.Enqueue($"stream {i}: different tokens");
                    Interlocked.Increment(ref completed);
                }
                catch (Exception e)
                {
                    failures.Enqueue($"stream {i}: {e.GetType().Name}: {e.Message}");
                }
            }
        })).ToArray();
        int duringOutage;
        try
        {
            while (Volatile.Read(ref completed) < streams) await Task.Delay(100);
            redis.Pause(); // SIGSTOP: connections hang, as when the store is unreachable
            int before = Volatile.Read(ref completed);
            await Task.Delay(TimeSpan.FromSeconds(10));
            duringOutage = Volatile.Read(ref completed) - before;
            redis.Resume();
            int after = Volatile.Read(ref completed);
            while (Volatile.Read(ref completed) < after + streams) await Task.Delay(100);
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(load);
        }
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(5)) + "\n" + Logs(processes));
        Assert.True(duringOutage >= streams, $"only {duringOutage} completions while Redis was paused");
        Assert.All(processes.Silos, s => Assert.False(s.HasExited, $"silo {s.Role} :{s.SiloPort} exited\n{s.Log}"));
        var hosts = await processes.Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Equal(3, hosts.Count); // nobody was declared dead because the table was unreachable
        Console.WriteLine($"Redis paused 10 s under {streams} streams: {duringOutage} completions during the outage, 0 failed, 3/3 silos active after");
    }
}
