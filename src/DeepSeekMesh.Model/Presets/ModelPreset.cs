using System.Text.Json.Nodes;

namespace DeepSeekMesh.Model.Presets;

/// <summary>
/// Named DeepSeek-V3 shapes for random-weight checkpoints: <c>tiny</c> (seconds to run),
/// <c>small</c> (~1 B parameters, ~0.25 B active per token; fixed so benchmark numbers compare
/// across commits), <c>v3-topology</c> (DeepSeek-V3's real layer and expert counts with tiny widths)
/// and <c>v3-widths</c> (DeepSeek-V3's real widths — hidden 7168, vocab 129,280, q_lora 1536,
/// kv_lora 512, head dims 128/64/128 — with 2 layers, 2 heads and 8 small experts: f32 embedding
/// and lm_head of 3.7 GB each).
/// </summary>
public static class ModelPreset
{
    public static IReadOnlyList<string> Names { get; } = ["tiny", "small", "v3-topology", "v3-widths"];

    public static JsonObject Config(string name, int? vocabSize = null, int? bosTokenId = null, int? eosTokenId = null)
    {
        var c = name switch
        {
            "tiny" => Shape(vocab: 512, hidden: 128, intermediate: 256, moeIntermediate: 64, layers: 4, dense: 1, heads: 4,
                qLora: 64, kvLora: 32, nope: 16, rope: 8, v: 16, experts: 16, topK: 4, groups: 4, topkGroup: 2, scale: 2.5,
                maxPositions: 4096, yarnFactor: 4, originalPositions: 1024),
            "small" => Shape(vocab: 129280, hidden: 1024, intermediate: 4096, moeIntermediate: 512, layers: 8, dense: 1, heads: 16,
                qLora: 384, kvLora: 256, nope: 64, rope: 32, v: 64, experts: 64, topK: 6, groups: 8, topkGroup: 4, scale: 2.5,
                maxPositions: 16384, yarnFactor: 4, originalPositions: 4096),
            "v3-topology" => Shape(vocab: 512, hidden: 64, intermediate: 128, moeIntermediate: 32, layers: 61, dense: 3, heads: 4,
                qLora: 32, kvLora: 32, nope: 16, rope: 8, v: 16, experts: 256, topK: 8, groups: 8, topkGroup: 4, scale: 2.5,
                maxPositions: 16384, yarnFactor: 40, originalPositions: 4096),
            "v3-widths" => Shape(vocab: 129280, hidden: 7168, intermediate: 1024, moeIntermediate: 256, layers: 2, dense: 1, heads: 2,
                qLora: 1536, kvLora: 512, nope: 128, rope: 64, v: 128, experts: 8, topK: 2, groups: 1, topkGroup: 1, scale: 2.5,
                maxPositions: 16384, yarnFactor: 40, originalPositions: 4096),
            _ => throw new ArgumentException($"unknown preset '{name}' (one of: {string.Join(", ", Names)})"),
        };
        if (vocabSize is { } vocab && vocab > c["vocab_size"]!.GetValue<int>()) c["vocab_size"] = vocab; // must cover the tokenizer
        c["bos_token_id"] = bosTokenId ?? 0;
        c["eos_token_id"] = eosTokenId ?? 1;
        return c;
    }

    /// <summary>
    /// Writes a random-weight demo model of <paramref name="preset"/> into <paramref name="directory"/>
    /// (what the AppHost, <c>dsmesh init-model</c> and the tests serve): with a tokenizer directory, the
    /// vocabulary covers it (<see cref="TokenizerVocabulary"/>), BOS/EOS are its ids, and its files are
    /// copied last (so a directory with tokenizer files is complete). Returns the directory.
    /// </summary>
    public static string WriteDemo(string directory, string preset, ulong seed, string? tokenizerDirectory = null,
        CheckpointDtype dtype = CheckpointDtype.Bf16, Action<int, int>? progress = null)
    {
        var vocab = tokenizerDirectory is null ? null : TokenizerVocabulary.Read(tokenizerDirectory);
        RandomCheckpoint.Write(Config(preset, vocab?.VocabSize, vocab?.BosId, vocab?.EosId), directory, seed, dtype, progress: progress);
        if (tokenizerDirectory is not null) TokenizerVocabulary.Copy(tokenizerDirectory, directory);
        return directory;
    }

    static JsonObject Shape(int vocab, int hidden, int intermediate, int moeIntermediate, int layers, int dense, int heads,
        int qLora, int kvLora, int nope, int rope, int v, int experts, int topK, int groups, int topkGroup, double scale,
        int maxPositions, double yarnFactor, int originalPositions) => new()
    {
        ["architectures"] = new JsonArray("DeepseekV3ForCausalLM"),
        ["model_type"] = "deepseek_v3",
        ["vocab_size"] = vocab,
        ["hidden_size"] = hidden,
        ["intermediate_size"] = intermediate,
        ["moe_intermediate_size"] = moeIntermediate,
        ["num_hidden_layers"] = layers,
        ["num_attention_heads"] = heads,
        ["num_key_value_heads"] = heads,
        ["n_shared_experts"] = 1,
        ["n_routed_experts"] = experts,
        ["routed_scaling_factor"] = scale,
        ["kv_lora_rank"] = kvLora,
        ["q_lora_rank"] = qLora,
        ["qk_rope_head_dim"] = rope,
        ["v_head_dim"] = v,
        ["qk_nope_head_dim"] = nope,
        ["topk_method"] = "noaux_tc",
        ["n_group"] = groups,
        ["topk_group"] = topkGroup,
        ["num_experts_per_tok"] = topK,
        ["moe_layer_freq"] = 1,
        ["first_k_dense_replace"] = dense,
        ["norm_topk_prob"] = true,
        ["scoring_func"] = "sigmoid",
        ["hidden_act"] = "silu",
        ["rope_theta"] = 10000.0,
        ["rope_scaling"] = new JsonObject
        {
            ["type"] = "yarn", ["factor"] = yarnFactor, ["original_max_position_embeddings"] = originalPositions,
            ["beta_fast"] = 32, ["beta_slow"] = 1, ["mscale"] = 1.0, ["mscale_all_dim"] = 1.0,
        },
        ["rms_norm_eps"] = 1e-6,
        ["max_position_embeddings"] = maxPositions,
        ["tie_word_embeddings"] = false,
        ["attention_bias"] = false,
        ["num_nextn_predict_layers"] = 0,
        ["torch_dtype"] = "bfloat16",
        ["initializer_range"] = 0.02,
    };
}
