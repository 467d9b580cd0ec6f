using System.Text.Json;
using System.Text.Json.Nodes;

namespace DeepSeekMesh.Model.Config;

/// <summary>
/// A DeepSeek-V3 architecture as HuggingFace's DeepseekV3Config names it. Read from a model
/// directory's config.json; anything we cannot serve faithfully is rejected at load, naming the field.
/// </summary>
public sealed record ModelConfig
{
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int MoeIntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    /// <summary>0 means no query compression (q_proj instead of q_a_proj/q_b_proj).</summary>
    public required int QLoraRank { get; init; }
    public required int KvLoraRank { get; init; }
    public required int QkNopeHeadDim { get; init; }
    public required int QkRopeHeadDim { get; init; }
    public required int VHeadDim { get; init; }
    public required int NRoutedExperts { get; init; }
    public required int NSharedExperts { get; init; }
    public required int NumExpertsPerTok { get; init; }
    public required int NGroup { get; init; }
    public required int TopkGroup { get; init; }
    public required double RoutedScalingFactor { get; init; }
    public required int FirstKDenseReplace { get; init; }
    public required bool NormTopkProb { get; init; }
    public required double RopeTheta { get; init; }
    public required double RmsNormEps { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public RopeScaling? RopeScaling { get; init; }
    /// <summary>Block size of FP8 weight scales ([128, 128] in DeepSeek-V3), or null for unquantized checkpoints.</summary>
    public int[]? WeightBlockSize { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }

    public int QkHeadDim => QkNopeHeadDim + QkRopeHeadDim;

    public bool IsMoeLayer(int layer) => NRoutedExperts > 0 && layer >= FirstKDenseReplace;

    /// <summary>Softmax scale of MLA: qk_head_dim^-0.5, times mscale² under YaRN.</summary>
    public double SoftmaxScale
    {
        get
        {
            double m = RopeScaling?.SoftmaxMscale ?? 1.0;
            return Math.Pow(QkHeadDim, -0.5) * m * m;
        }
    }

    public static ModelConfig Load(string modelDirectory)
    {
        var path = Path.Combine(modelDirectory, "config.json");
        if (!File.Exists(path))
            throw new ModelConfigException($"{path}: not found (a HuggingFace model directory needs config.json)");
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                   ?? throw new ModelConfigException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new ModelConfigException($"{path}: invalid JSON: {e.Message}");
        }
        return Parse(root, path);
    }

    public static ModelConfig Parse(JsonObject root, string source = "config.json")
    {
        var r = new ConfigReader(root, source);
        r.RequireArchitecture();
        r.RequireChoice("scoring_func", "sigmoid");
        r.RequireChoice("topk_method", "noaux_tc");
        r.RequireChoice("hidden_act", "silu");
        r.RequireAbsentOrFalse("attention_bias");
        r.RequireAbsentOrFalse("tie_word_embeddings");
        r.RequireChoice("moe_layer_freq", "1");

        var config = new ModelConfig
        {
            VocabSize = r.PositiveInt("vocab_size"),
            HiddenSize = r.PositiveInt("hidden_size"),
            IntermediateSize = r.PositiveInt("intermediate_size"),
            MoeIntermediateSize = r.PositiveInt("moe_intermediate_size"),
            NumHiddenLayers = r.PositiveInt("num_hidden_layers"),
            NumAttentionHeads = r.PositiveInt("num_attention_heads"),
            QLoraRank = r.OptionalNonNegativeInt("q_lora_rank") ?? 0,
            KvLoraRank = r.PositiveInt("kv_lora_rank"),
            QkNopeHeadDim = r.PositiveInt("qk_nope_head_dim"),
            QkRopeHeadDim = r.PositiveEvenInt("qk_rope_head_dim"),
            VHeadDim = r.PositiveInt("v_head_dim"),
            NRoutedExperts = r.PositiveInt("n_routed_experts"),
            NSharedExperts = r.OptionalNonNegativeInt("n_shared_experts") ?? 0,
            NumExpertsPerTok = r.PositiveInt("num_experts_per_tok"),
            NGroup = r.OptionalNonNegativeInt("n_group") ?? 1,
            TopkGroup = r.OptionalNonNegativeInt("topk_group") ?? 1,
            RoutedScalingFactor = r.PositiveDouble("routed_scaling_factor", 1.0),
            FirstKDenseReplace = r.OptionalNonNegativeInt("first_k_dense_replace") ?? 0,
            NormTopkProb = r.Bool("norm_topk_prob", true),
            RopeTheta = r.PositiveDouble("rope_theta", 10000.0),
            RmsNormEps = r.PositiveDouble("rms_norm_eps", 1e-6),
            MaxPositionEmbeddings = r.PositiveInt("max_position_embeddings"),
            RopeScaling = r.RopeScaling(),
            WeightBlockSize = r.Quantization(),
            BosTokenId = r.OptionalNonNegativeInt("bos_token_id"),
            EosTokenId = r.OptionalNonNegativeInt("eos_token_id"),
        };
        config.Validate(source);
        return config;
    }

    void Validate(string source)
    {
        void Fail(string field, string why) => throw new ModelConfigException($"{source}: {field}: {why}");
        if (NGroup < 1 || NRoutedExperts % NGroup != 0)
            Fail("n_group", $"{NGroup} must divide n_routed_experts ({NRoutedExperts})");
        if (NGroup > 1 && NRoutedExperts / NGroup < 2)
            Fail("n_group", "each expert group needs at least 2 experts (groups are ranked by their top-2 scores)");
        if (TopkGroup < 1 || TopkGroup > NGroup)
            Fail("topk_group", $"{TopkGroup} must be in [1, n_group={NGroup}]");
        if (NumExpertsPerTok > TopkGroup * (NRoutedExperts / NGroup))
            Fail("num_experts_per_tok", $"{NumExpertsPerTok} exceeds the experts in topk_group groups ({TopkGroup * (NRoutedExperts / NGroup)})");
        if (FirstKDenseReplace > NumHiddenLayers)
            Fail("first_k_dense_replace", $"{FirstKDenseReplace} exceeds num_hidden_layers ({NumHiddenLayers})");
        if (RopeScaling is { } y && y.OriginalMaxPositionEmbeddings <= 0)
            Fail("rope_scaling.original_max_position_embeddings", "must be positive");
    }
}
