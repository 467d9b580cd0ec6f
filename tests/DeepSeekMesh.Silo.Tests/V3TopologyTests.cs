using DeepSeekMesh.Model.Inference;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>DeepSeek-V3's real topology — 58 MoE layers × 256 routed experts, 14,848 expert grains — through a 3-silo mesh.</summary>
public sealed class V3TopologyTests
{
    [Fact]
    public async Task GeneratesLikeTheSingleProcess()
    {
        var dir = TestModels.V3Topology;
        int[] prompt = [11, 205, 37, 480, 6];
        var expected = Runs.SingleProcess(dir, [new GenerationRequest(prompt, Runs.Greedy(4))])[0];

        await using var mesh = await MeshCluster.StartAsync(dir);
        var streamed = await Runs.Complete(mesh.Client, prompt, Runs.Greedy(4));
        Assert.Equal(Runs.Ids(expected.Tokens), Runs.Ids(streamed));
    }
}
