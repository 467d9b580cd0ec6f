using DeepSeekMesh.Model.Config;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// DeepSeek-V3's router: sigmoid affinities; the correction bias only decides WHICH experts are
/// chosen; groups are ranked by the sum of their two best biased scores and only topk_group groups
/// stay eligible; the top-k experts among them are weighted by their UNBIASED scores, normalized to
/// sum 1, times routed_scaling_factor. Scores, selection and weights are f32 whatever the compute
/// dtype: a bf16 score would flip near-ties between experts.
/// </summary>
public sealed class Gate : IRouter
{
    readonly Tensor _weight; // [n_routed_experts, hidden] f32
    readonly Tensor _bias;   // [n_routed_experts] f32
    readonly ModelConfig _c;
    readonly TorchSharp.Scalar _routedScale;

    public Gate(Tensor weight, Tensor bias, ModelConfig config)
    {
        _weight = weight;
        _bias = bias;
        _c = config;
        _routedScale = config.RoutedScalingFactor;
    }

    /// <summary>The gate's tensors, kept in f32 (the reference keeps its bias in fp32).</summary>
    public static Gate Load(LoadContext ctx, int layer)
    {
        var c = ctx.Config;
        var p = $"model.layers.{layer}.mlp.gate";
        var weight = ctx.Matrix($"{p}.weight", c.NRoutedExperts, c.HiddenSize, ScalarType.Float32);
        return new Gate(weight, ctx.Vector($"{p}.e_score_correction_bias", c.NRoutedExperts), c);
    }

    public (Tensor Weights, Tensor Indices) Route(Tensor x) // [T, hidden] -> [T, k] f32, [T, k] int64
    {
        using var scope = NewDisposeScope();
        long T = x.shape[0];
        var scores = F.linear(x.to(ScalarType.Float32), _weight).sigmoid(); // [T, E] f32
        var biased = scores.add(_bias, Scalars.One); // [T, E] (a held alpha: see Scalars)
        if (_c.NGroup > 1)
        {
            var grouped = biased.view(T, _c.NGroup, -1); // [T, G, E/G]
            var groupScores = grouped.topk(2, dim: -1).values.sum(-1); // [T, G]
            var keep = groupScores.topk(_c.TopkGroup, dim: -1).indexes; // [T, topk_group]
            var drop = ones(T, _c.NGroup, ScalarType.Bool, x.device).scatter(1, keep, zeros_like(keep, ScalarType.Bool)); // [T, G]
            biased = grouped.masked_fill(drop.unsqueeze(-1), Scalars.NegativeInfinity).flatten(1); // [T, E]
        }
        var indices = biased.topk(_c.NumExpertsPerTok, dim: -1).indexes; // [T, k]
        var weights = scores.gather(1, indices); // [T, k]
        if (_c.NormTopkProb) weights = weights / weights.sum(-1, keepdim: true); // [T, k]
        weights = weights * _routedScale; // [T, k]
        return (weights.MoveToOuterDisposeScope(), indices.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        _weight.Dispose();
        _bias.Dispose();
        _routedScale.Dispose();
    }
}
