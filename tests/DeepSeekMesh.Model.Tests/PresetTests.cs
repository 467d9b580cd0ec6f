using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Engine;
using DeepSeekMesh.Model.Presets;
using DeepSeekMesh.Sampling;

namespace DeepSeekMesh.Model.Tests;

/// <summary>Random-weight checkpoints load with the same loader and behave like a model.</summary>
public sealed class PresetTests
{
    [Theory]
    [InlineData(CheckpointDtype.Bf16)]
    [InlineData(CheckpointDtype.Fp8)]
    public void TinyPresetLoadsAndGenerates(CheckpointDtype dtype)
    {
        var dir = Scratch.NewDirectory("tiny-");
        RandomCheckpoint.Write(ModelPreset.Config("tiny"), dir, seed: 7, dtype);
        using var model = Transformer.Load(dir);
        Assert.Equal(dtype == CheckpointDtype.Fp8, model.Config.WeightBlockSize is not null);
        using var engine = new OfflineEngine(model);
        var (results, _) = engine.Generate([new EngineRequest([0, 5, 9, 77], SamplingParams.Greedy with { MaxTokens = 5, IgnoreEos = true })], keepLogits: true);
        var logits = results[0].Logits![0];
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
        double std = Math.Sqrt(logits.Select(v => (double)v * v).Average() - Math.Pow(logits.Average(), 2));
        Assert.InRange(std, 0.3, 20); // O(1) logits, not all tiny
        Assert.Equal(5, results[0].Tokens.Count);
    }

    [Fact]
    public void SameSeedSameWeightsAcrossRuns()
    {
        var a = Scratch.NewDirectory("a-");
        var b = Scratch.NewDirectory("b-");
        RandomCheckpoint.Write(ModelPreset.Config("tiny"), a, seed: 3, CheckpointDtype.Bf16);
        RandomCheckpoint.Write(ModelPreset.Config("tiny"), b, seed: 3, CheckpointDtype.Bf16);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "model.safetensors")), File.ReadAllBytes(Path.Combine(b, "model.safetensors")));
    }

    [Fact]
    public void SmallPresetHasTheAdvertisedSize()
    {
        var c = ModelConfig.Parse(ModelPreset.Config("small"));
        Assert.InRange(ParameterCounts.Total(c), 0.95e9, 1.1e9);
        Assert.InRange(ParameterCounts.ActivePerToken(c), 0.24e9, 0.25e9);
        var v3 = ModelConfig.Parse(ModelPreset.Config("v3-topology"));
        Assert.Equal(58 * 256, (v3.NumHiddenLayers - v3.FirstKDenseReplace) * v3.NRoutedExperts); // 14,848 expert grains
    }
}
