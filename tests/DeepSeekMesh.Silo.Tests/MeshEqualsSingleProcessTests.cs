using DeepSeekMesh.Model.Inference;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>The mesh (1 frontend + 2 expert silos) produces what one process produces.</summary>
public sealed class MeshEqualsSingleProcessTests
{
    static readonly int[][] Prompts = [[5, 9, 300, 17], [70, 67, 408, 256, 302, 308, 365, 11, 2]];

    [Theory]
    [MemberData(nameof(TestModels.All), MemberType = typeof(TestModels))]
    public async Task GreedyTokensAndLogitsEqualTheSingleProcess(string name)
    {
        var dir = TestModels.Directory(name);
        var requests = Prompts.Select(p => new GenerationRequest(p, Runs.Greedy(8))).ToArray();
        var expected = Runs.SingleProcess(dir, requests, keepLogits: true);

        await using var mesh = await MeshCluster.StartAsync(dir);
        await mesh.WaitForPlanAsync(2); // dispatch by the placement plan: one batch per expert silo per layer
        var (direct, traffic) = await Runs.ThroughGrains(mesh, requests, keepLogits: true);
        for (int i = 0; i < requests.Length; i++)
        {
            Assert.Equal(Runs.Ids(expected[i].Tokens), Runs.Ids(direct[i].Tokens));
            for (int step = 0; step < expected[i].Logits!.Count; step++)
                Runs.AssertClose(expected[i].Logits![step], direct[i].Logits![step], 1e-5, $"{name} sequence {i} step {step}");
        }
        Assert.True(traffic.Calls > 0);
        Assert.Equal(0, traffic.Retries);

        // The same requests through completion grains and the frontend's continuous-batching engine.
        for (int i = 0; i < requests.Length; i++)
        {
            var streamed = await Runs.Complete(mesh.Client, Prompts[i], Runs.Greedy(8));
            Assert.Equal(Runs.Ids(expected[i].Tokens), Runs.Ids(streamed));
            Assert.Equal(Sampling.FinishReason.Length, streamed[^1].FinishReason);
            Assert.All(streamed[..^1], t => Assert.Equal(Sampling.FinishReason.None, t.FinishReason));
        }
    }
}
