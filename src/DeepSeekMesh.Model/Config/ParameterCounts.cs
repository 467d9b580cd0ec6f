namespace DeepSeekMesh.Model.Config;

/// <summary>Parameter counts of a DeepSeek-V3 shape: what is stored, and what one token reads.</summary>
public static class ParameterCounts
{
    public static long Attention(ModelConfig c)
    {
        long H = c.NumAttentionHeads, D = c.HiddenSize;
        long q = c.QLoraRank == 0 ? H * c.QkHeadDim * D : (long)c.QLoraRank * D + c.QLoraRank + H * c.QkHeadDim * c.QLoraRank;
        return q + (long)(c.KvLoraRank + c.QkRopeHeadDim) * D + c.KvLoraRank
             + H * (c.QkNopeHeadDim + c.VHeadDim) * c.KvLoraRank + D * H * c.VHeadDim + 2 * D;
    }

    public static long Expert(ModelConfig c) => 3L * c.HiddenSize * c.MoeIntermediateSize;

    public static long DenseMlp(ModelConfig c) => 3L * c.HiddenSize * c.IntermediateSize;

    static long Layers(ModelConfig c, int routedExpertsPerMoeLayer)
    {
        long total = 0;
        for (int layer = 0; layer < c.NumHiddenLayers; layer++)
        {
            total += Attention(c);
            total += c.IsMoeLayer(layer)
                ? (long)c.NRoutedExperts * c.HiddenSize + c.NRoutedExperts + Expert(c) * (c.NSharedExperts + routedExpertsPerMoeLayer)
                : DenseMlp(c);
        }
        return total;
    }

    /// <summary>Every parameter: embeddings, all layers with all routed experts, final norm, lm_head.</summary>
    public static long Total(ModelConfig c) => 2L * c.VocabSize * c.HiddenSize + Layers(c, c.NRoutedExperts) + c.HiddenSize;

    /// <summary>Parameters one decoded token reads: all layers with its k routed experts, lm_head, one embedding row.</summary>
    public static long ActivePerToken(ModelConfig c) => (long)c.VocabSize * c.HiddenSize + c.HiddenSize + Layers(c, c.NumExpertsPerTok) + c.HiddenSize;
}
