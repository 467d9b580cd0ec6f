using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>Concurrent sequences share the frontend's engine steps and expert calls, yet each gets its solo result.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task SixteenConcurrentCompletionsEachEqualTheirSoloRun()
    {
        var dir = TestModels.Tiny;
        (int[] Prompt, SamplingParams Sampling)[] cases =
        [
            ([1, 2, 3], Runs.Greedy(12)),
            ([400, 12, 77, 5, 90, 31, 8, 256, 19, 3, 44], Runs.Greedy(5)),
            ([9, 8, 7, 6], new SamplingParams { Temperature = 0.8f, TopP = 0.9f, Seed = 11, MaxTokens = 9, IgnoreEos = true }),
            ([9, 8, 7, 6], new SamplingParams { Temperature = 1.0f, TopK = 20, Seed = 12345, MaxTokens = 14, IgnoreEos = true, Logprobs = 3 }),
            ([300, 301, 302, 303, 304, 305, 306], new SamplingParams { Temperature = 0.7f, Seed = 99, MaxTokens = 7, IgnoreEos = true }),
            .. Enumerable.Range(0, 11).Select(i => (
                Enumerable.Range(0, 2 + i * 2).Select(t => (t * 31 + i * 7) % 500 + 2).ToArray(),
                i % 3 == 0 ? Runs.Greedy(4 + i) : new SamplingParams { Temperature = 0.6f + i * 0.05f, TopP = 0.95f, Seed = (ulong)(1000 + i), MaxTokens = 4 + i, IgnoreEos = true })),
        ]; // 16 sequences of different lengths, settings and seeds
        var solo = cases.Select(c => Runs.SingleProcess(dir, [new GenerationRequest(c.Prompt, c.Sampling)])[0]).ToArray();

        await using var mesh = await MeshCluster.StartAsync(dir);
        var streams = await Task.WhenAll(cases.Select(c => Runs.Complete(mesh.Client, c.Prompt, c.Sampling)));
        for (int i = 0; i < cases.Length; i++)
        {
            Assert.Equal(Runs.Ids(solo[i].Tokens), Runs.Ids(streams[i]));
            Assert.Equal(cases[i].Sampling.MaxTokens, streams[i].Count);
        }
        // Logprobs travel with the tokens.
        var withLogprobs = streams[3];
        Assert.All(withLogprobs, t => Assert.Equal(3, t.TopLogprobs.Count));
        for (int step = 0; step < withLogprobs.Count; step++)
            Assert.Equal(solo[3].Tokens[step].Logprob, withLogprobs[step].Logprob, 1e-4f);
    }
}
