using DeepSeekMesh.Model.Inference;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>A transformer block: x + attn(norm(x)), then + ffn(norm(x)) with a dense MLP or an MoE.</summary>
public sealed class Block(RmsNorm attnNorm, Mla attn, RmsNorm ffnNorm, IFeedForward ffn) : IDisposable
{
    public static Block Load(LoadContext ctx, int layer, IExpertExecutor experts, Func<LoadContext, int, IRouter>? routers = null)
    {
        var c = ctx.Config;
        var p = $"model.layers.{layer}";
        IFeedForward ffn = c.IsMoeLayer(layer)
            ? Moe.Load(ctx, layer, experts, routers?.Invoke(ctx, layer))
            : Mlp.Load(ctx, $"{p}.mlp", c.HiddenSize, c.IntermediateSize);
        return new Block(
            RmsNorm.Load(ctx, $"{p}.input_layernorm.weight", c.HiddenSize),
            new Mla(ctx, layer),
            RmsNorm.Load(ctx, $"{p}.post_attention_layernorm.weight", c.HiddenSize),
            ffn);
    }

    public Tensor Forward(Tensor x, ForwardBatch batch, Tensor cos, Tensor sin) // [T, hidden] -> [T, hidden]
    {
        using var scope = NewDisposeScope();
        x = x.add(attn.Forward(attnNorm.Forward(x), batch, cos, sin), Scalars.One); // [T, hidden] (a held alpha: see Scalars)
        x = x.add(ffn.Forward(ffnNorm.Forward(x)), Scalars.One); // [T, hidden]
        return x.MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        attnNorm.Dispose();
        attn.Dispose();
        ffnNorm.Dispose();
        ffn.Dispose();
    }
}
