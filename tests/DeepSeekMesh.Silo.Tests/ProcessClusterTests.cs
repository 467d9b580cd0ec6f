using System.Net;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>
/// `dsmesh silo` processes (1 frontend + 2 expert silos, development clustering on loopback) and a
/// client: an expert silo killed with SIGKILL mid-generation does not change the tokens.
/// </summary>
public sealed class ProcessClusterTests
{
    [Fact]
    public async Task ExpertProcessKilledMidGenerationStillGivesTheSameTokens()
    {
        var dir = TestModels.Tiny;
        int[] prompt = [12, 7, 301, 45, 9];
        const int maxTokens = 160;
        var expected = Runs.SingleProcess(dir, [new GenerationRequest(prompt, Runs.Greedy(maxTokens))])[0];

        await using var processes = new SiloProcesses();
        var clusterId = $"dsmesh-test-{Guid.NewGuid():N}";
        // The primary is an expert silo that stays up; the victim is the other expert silo.
        var primary = processes.Start("expert", dir, "", clusterId);
        var join = $"--primary 127.0.0.1:{primary.SiloPort}";
        var victim = processes.Start("expert", dir, join, clusterId);
        var frontend = processes.Start("frontend", dir, join, clusterId);
        await processes.ConnectAsync(c => c.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, frontend.GatewayPort)), clusterId);
        await processes.WaitForSilosAsync(3, TimeSpan.FromSeconds(60));

        var tokens = new List<SampledToken>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan? killedAt = null;
        try
        {
            await foreach (var token in processes.Client.GetGrain<ICompletionGrain>("kill-9")
                               .Generate(prompt, Runs.Greedy(maxTokens)))
            {
                tokens.Add(token);
                if (tokens.Count == 20)
                {
                    victim.Kill();
                    killedAt = clock.Elapsed;
                }
            }
        }
        catch (Exception e)
        {
            throw new Exception($"after {tokens.Count} tokens, {clock.Elapsed.TotalSeconds:F1} s: {e.Message}\n"
                + string.Join("\n", processes.Silos.Select(s => $"--- {s.Role} :{s.SiloPort}\n{s.Log}")), e);
        }
        if (Environment.GetEnvironmentVariable("DSMESH_TEST_DUMP") is not null)
            Console.WriteLine(string.Join("\n", processes.Silos.Select(s => $"--- {s.Role} :{s.SiloPort}\n{s.Log}")));
        Assert.NotNull(killedAt);
        Assert.Equal(Runs.Ids(expected.Tokens), Runs.Ids(tokens));
        Console.WriteLine($"kill -9 of an expert silo after 20 of {maxTokens} tokens at {killedAt.Value.TotalSeconds:F2} s; done at {clock.Elapsed.TotalSeconds:F2} s");
    }
}
