using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Model.Presets;
using DeepSeekMesh.Model.Weights;
using DeepSeekMesh.Sampling;
using DeepSeekMesh.TestSupport;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Tests;

/// <summary>
/// DeepSeek-V3's real widths (hidden 7168, vocab 129,280, q_lora 1536, kv_lora 512, head dims
/// 128/64/128; the <c>v3-widths</c> preset: 2 layers, 2 heads, 8 experts) written as FP8 like the
/// release, loaded with every weight choice: each generates the same greedy tokens, and the f32
/// embedding and lm_head (3.7 GB each) load whole — no path caps a tensor at 2 GB.
/// </summary>
public sealed class RealWidthsTests
{
    [Fact]
    public void EveryWeightChoiceLoadsAndGeneratesTheSameTokens()
    {
        var directory = ModelPreset.WriteDemo(Scratch.NewDirectory("v3-widths-"), "v3-widths", seed: 7, dtype: CheckpointDtype.Fp8);
        using (var checkpoint = Checkpoint.Open(directory))
        {
            var (_, embedding) = checkpoint.Find("model.embed_tokens.weight");
            Assert.Equal(new long[] { 129280, 7168 }, embedding.Shape);
            Assert.True(checkpoint.IsFp8("model.layers.1.mlp.experts.0.down_proj.weight"));
        }
        var choices = new (string Name, ModelOptions Options)[]
        {
            ("fp8 (others bf16)", new ModelOptions { KeepFp8 = true, WeightDtype = ScalarType.BFloat16 }),
            ("bf16", new ModelOptions { KeepFp8 = false, WeightDtype = ScalarType.BFloat16 }),
            ("f32", new ModelOptions { KeepFp8 = false, WeightDtype = ScalarType.Float32 }),
        };
        int[]? first = null;
        foreach (var (name, options) in choices)
        {
            using var model = Transformer.Load(directory, options); // f32: the embedding and lm_head are 3.7 GB tensors each
            using var engine = new OfflineEngine(model);
            var (results, _) = engine.Generate([new EngineRequest([1, 2, 3, 4], SamplingParams.Greedy with { MaxTokens = 3, IgnoreEos = true })]);
            var tokens = results[0].Tokens.Select(t => t.TokenId).ToArray();
            Assert.Equal(3, tokens.Length);
            first ??= tokens;
            Assert.True(first.SequenceEqual(tokens), $"--weights {name}: tokens [{string.Join(", ", tokens)}], fp8 gave [{string.Join(", ", first)}]");
        }
    }
}
