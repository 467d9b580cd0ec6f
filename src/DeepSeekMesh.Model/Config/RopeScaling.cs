namespace DeepSeekMesh.Model.Config;

/// <summary>YaRN rope scaling (config.json "rope_scaling" with type "yarn").</summary>
public sealed record RopeScaling(
    double Factor,
    int OriginalMaxPositionEmbeddings,
    double BetaFast,
    double BetaSlow,
    double Mscale,
    double MscaleAllDim)
{
    /// <summary>mscale = 0.1 · mscale_all_dim · ln(factor) + 1; the softmax scale is multiplied by its square.</summary>
    public double SoftmaxMscale => Factor <= 1 ? 1.0 : 0.1 * MscaleAllDim * Math.Log(Factor) + 1.0;
}
