using System.Text.Json.Nodes;
using DeepSeekMesh.Model.Config;

namespace DeepSeekMesh.Model.Tests;

/// <summary>config.json values we cannot serve are refused at load with the field named.</summary>
public sealed class ConfigTests
{
    static JsonObject Valid() => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Conformance, "tiny-b", "config.json")))!;

    [Fact]
    public void ReadsEveryFieldOfARealConfig()
    {
        var c = ModelConfig.Load(Path.Combine(RepoPaths.Conformance, "tiny-c"));
        Assert.Equal(256, c.HiddenSize);
        Assert.Equal(96, c.QLoraRank);
        Assert.Equal(2.5, c.RoutedScalingFactor);
        Assert.Equal([128, 128], c.WeightBlockSize!);
        Assert.Equal(4, c.RopeScaling!.Factor);
        Assert.Equal(Math.Pow(48, -0.5) * Math.Pow(0.1 * Math.Log(4) + 1, 2), c.SoftmaxScale, 12);
        Assert.Equal(0, ModelConfig.Load(Path.Combine(RepoPaths.Conformance, "tiny-b")).QLoraRank); // null → q_proj
    }

    [Theory]
    [InlineData("model_type", "\"llama\"", "model_type")]
    [InlineData("scoring_func", "\"softmax\"", "scoring_func")]
    [InlineData("topk_method", "\"greedy\"", "topk_method")]
    [InlineData("hidden_size", "-4", "hidden_size: must be positive")]
    [InlineData("hidden_size", "\"big\"", "hidden_size: expected an integer")]
    [InlineData("qk_rope_head_dim", "7", "qk_rope_head_dim: must be even")]
    [InlineData("n_group", "3", "n_group")]
    [InlineData("topk_group", "9", "topk_group")]
    [InlineData("num_experts_per_tok", "7", "num_experts_per_tok")]
    [InlineData("rope_scaling", "{\"type\":\"linear\",\"factor\":2}", "rope_scaling.type")]
    [InlineData("quantization_config", "{\"quant_method\":\"gptq\"}", "quantization_config.quant_method")]
    [InlineData("quantization_config", "{\"quant_method\":\"fp8\",\"weight_block_size\":[128]}", "weight_block_size")]
    [InlineData("hidden_act", "\"gelu\"", "hidden_act")]
    public void UnsupportedValuesAreRejectedNamingTheField(string field, string json, string expected)
    {
        var config = Valid();
        if (field == "model_type") config.Remove("architectures");
        config[field] = JsonNode.Parse(json);
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(config, "x/config.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("x/config.json", e.Message);
    }

    [Fact]
    public void MissingRequiredFieldIsNamed()
    {
        var config = Valid();
        config.Remove("kv_lora_rank");
        Assert.Contains("kv_lora_rank: missing", Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(config)).Message);
    }

    [Fact]
    public void MissingOrBrokenConfigFileIsNamed()
    {
        var dir = Scratch.NewDirectory("config-");
        Assert.Contains("config.json: not found", Assert.Throws<ModelConfigException>(() => ModelConfig.Load(dir)).Message);
        File.WriteAllText(Path.Combine(dir, "config.json"), "{ not json");
        Assert.Contains("invalid JSON", Assert.Throws<ModelConfigException>(() => ModelConfig.Load(dir)).Message);
    }
}
