using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Model.Tests;

/// <summary>A ragged batch computes exactly what each sequence computes alone.</summary>
public sealed class BatchTests
{
    static readonly string Case = Path.Combine(RepoPaths.Conformance, "tiny-a");

    [Fact]
    public void BatchOfThreeDifferentLengthsEqualsThreeSoloRuns()
    {
        using var model = Transformer.Load(Case);
        int[][] prompts = [[5, 9, 300], [70, 67, 408, 256, 302, 308, 365], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]];
        var sampling = SamplingParams.Greedy with { MaxTokens = 6, IgnoreEos = true };
        using var engine = new OfflineEngine(model);
        var (batched, _) = engine.Generate(prompts.Select(p => new EngineRequest(p, sampling)).ToArray(), keepLogits: true);
        for (int i = 0; i < prompts.Length; i++)
        {
            var (solo, _) = engine.Generate([new EngineRequest(prompts[i], sampling)], keepLogits: true);
            Assert.Equal(solo[0].Tokens.Select(t => t.TokenId), batched[i].Tokens.Select(t => t.TokenId));
            for (int step = 0; step < solo[0].Logits!.Count; step++)
                Logits.AssertClose(solo[0].Logits![step], batched[i].Logits![step], 1e-5, $"sequence {i} step {step}");
        }
    }

    [Fact]
    public void PrefillAndDecodeOfDifferentSequencesShareOneStep()
    {
        using var model = Transformer.Load(Case);
        using var decoding = model.NewCache();
        using var soloCache = model.NewCache();
        int[] first = [70, 67, 408, 256, 302];
        Logits.Of(model, decoding, first);
        Logits.Of(model, soloCache, first);
        using var fresh = model.NewCache();
        using var alone = model.NewCache();
        int[] second = [11, 22, 33, 44];

        using var batch = new ForwardBatch([(decoding, new[] { 7 }), (fresh, second)], model.Options.Device);
        using var both = model.Forward(batch);
        var mixed = TensorData.ToArray<float>(both);
        int vocab = model.Config.VocabSize;

        Logits.AssertClose(Logits.Of(model, soloCache, [7]), mixed[..vocab], 1e-5, "decoding sequence");
        Logits.AssertClose(Logits.Of(model, alone, second), mixed[vocab..], 1e-5, "prefilling sequence");
        Assert.Equal(6, decoding.Length);
        Assert.Equal(4, fresh.Length);
    }

    [Fact]
    public void SequencePastTheContextWindowIsRefused()
    {
        using var model = Transformer.Load(Case);
        using var cache = model.NewCache();
        var tooLong = Enumerable.Range(0, model.Config.MaxPositionEmbeddings + 1).Select(i => i % 500).ToArray();
        var e = Assert.Throws<ContextLengthException>(() => Logits.Of(model, cache, tooLong));
        Assert.Contains("context length of 256", e.Message);
    }
}
