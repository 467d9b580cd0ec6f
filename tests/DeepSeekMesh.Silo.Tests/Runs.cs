// The mesh tests build their requests as GenerationRequest (the fixed-batch Generator's name); both runs go through the engine now.
global using GenerationRequest = DeepSeekMesh.Model.Engine.EngineRequest;
global using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Mesh;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>Runs the same requests in one process, through the mesh's grains directly, and through completion grains.</summary>
public static class Runs
{
    public static SamplingParams Greedy(int maxTokens) => SamplingParams.Greedy with { MaxTokens = maxTokens, IgnoreEos = true };

    /// <summary>The single-process reference: local experts and gates.</summary>
    public static IReadOnlyList<GenerationResult> SingleProcess(string modelDirectory, IReadOnlyList<GenerationRequest> requests, bool keepLogits = false)
    {
        using var model = Transformer.Load(modelDirectory);
        using var engine = new OfflineEngine(model);
        return engine.Generate(requests, keepLogits).Results;
    }

    /// <summary>
    /// The frontend half of the model loaded as a frontend silo loads it (experts and gates as grains,
    /// called through the frontend silo's grain factory), driven by the offline engine (the frontend's
    /// engine, one batch at a time; its steps run on the engine's thread).
    /// </summary>
    public static Task<(IReadOnlyList<GenerationResult> Results, ExpertTrafficStats Traffic)> ThroughGrains(MeshCluster mesh,
        IReadOnlyList<GenerationRequest> requests, bool keepLogits = false, Func<int, SampledToken, bool>? onToken = null,
        MeshSiloOptions? options = null) =>
        OnDedicatedThread(() =>
        {
            var (model, experts) = MeshFrontend.LoadModel(mesh.Options.ModelDirectory, mesh.FrontendGrains, mesh.FrontendService<DeepSeekMesh.Silo.Plan.ExpertPlanCache>(), options ?? mesh.Options);
            using (model)
            using (var engine = new OfflineEngine(model))
                return (engine.Generate(requests, keepLogits, onToken).Results, experts.Stats);
        });

    /// <summary>A request through a completion grain, as the gateway sends it.</summary>
    public static async Task<List<SampledToken>> Complete(IGrainFactory grains, IReadOnlyList<int> prompt, SamplingParams sampling,
        string? requestId = null, CancellationToken cancellationToken = default)
    {
        var tokens = new List<SampledToken>();
        var grain = grains.GetGrain<ICompletionGrain>(requestId ?? Guid.NewGuid().ToString("N"));
        await foreach (var token in grain.Generate(prompt.ToArray(), sampling, cancellationToken))
            tokens.Add(token);
        return tokens;
    }

    public static Task<T> OnDedicatedThread<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    public static int[] Ids(IEnumerable<SampledToken> tokens) => tokens.Select(t => t.TokenId).ToArray();

    public static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (Math.Abs(expected[i] - actual[i]) > tolerance)
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tolerance})");
    }
}
