using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Model.Weights;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model;

/// <summary>
/// DeepSeek-V3: embed → blocks (dense first, then MoE) → RMSNorm → lm_head, over a ragged batch of
/// sequences, each attending to its own latent cache. Returns the logits of each sequence's last
/// new position.
/// </summary>
public sealed class Transformer : IDisposable
{
    readonly Tensor _embed; // [vocab, hidden]
    readonly Block[] _blocks;
    readonly RmsNorm _norm;
    readonly Linear _head;
    readonly RotaryEmbedding _rope;
    readonly IExpertExecutor _experts;

    public ModelConfig Config { get; }
    public ModelOptions Options { get; }

    Transformer(ModelConfig config, ModelOptions options, Tensor embed, Block[] blocks, RmsNorm norm, Linear head, IExpertExecutor experts)
    {
        Config = config;
        Options = options;
        _embed = embed;
        _blocks = blocks;
        _norm = norm;
        _head = head;
        _experts = experts;
        _rope = new RotaryEmbedding(config, options.Device);
    }

    /// <summary>
    /// Loads a HuggingFace model directory. Routed experts run through <paramref name="experts"/>
    /// and MoE layers route through <paramref name="routers"/> when given (the mesh), otherwise in
    /// this process. <paramref name="progress"/> receives (layers loaded, total layers).
    /// </summary>
    public static Transformer Load(string directory, ModelOptions? options = null, Func<LoadContext, IExpertExecutor>? experts = null,
        Action<int, int>? progress = null, Func<LoadContext, int, IRouter>? routers = null)
    {
        options ??= new ModelOptions();
        var config = ModelConfig.Load(directory);
        var checkpoint = Checkpoint.Open(directory);
        if (config.WeightBlockSize is { } block) checkpoint = checkpoint.WithBlockSize(block);
        using var _ = checkpoint;
        var ctx = new LoadContext(checkpoint, config, options);
        int total = config.NumHiddenLayers + 1;
        var executor = experts?.Invoke(ctx) ?? LocalExpertExecutor.Load(ctx);
        var embed = ctx.Matrix("model.embed_tokens.weight", config.VocabSize, config.HiddenSize, options.WeightDtype);
        var blocks = new Block[config.NumHiddenLayers];
        for (int layer = 0; layer < blocks.Length; layer++)
        {
            blocks[layer] = Block.Load(ctx, layer, executor, routers);
            progress?.Invoke(layer + 1, total);
        }
        var norm = RmsNorm.Load(ctx, "model.norm.weight", config.HiddenSize);
        var head = ctx.Linear("lm_head.weight", config.VocabSize, config.HiddenSize);
        progress?.Invoke(total, total);
        return new Transformer(config, options, embed, blocks, norm, head, executor);
    }

    /// <summary>Runs one step; writes each sequence's new positions to its cache. Returns [S, vocab] logits.</summary>
    public Tensor Forward(ForwardBatch batch)
    {
        using var scope = NewDisposeScope();
        var h = _embed.index_select(0, batch.Tokens).to(Options.ComputeDtype); // [T, hidden]
        var (cos, sin) = _rope.Angles(batch.Positions); // [T, rope/2] twice
        foreach (var block in _blocks)
            h = block.Forward(h, batch, cos, sin); // [T, hidden]
        var last = _norm.Forward(h.index_select(0, batch.LastRows)); // [S, hidden]
        var logits = _head.Forward(last).to(ScalarType.Float32); // [S, vocab]
        batch.Commit();
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>A standalone cache with a private pool that grows as the sequence does.</summary>
    public LatentCache NewCache(int initialCapacity = 64)
    {
        var pool = new LatentCachePool(Config, Options, blocks: Math.Max(1, (Math.Min(initialCapacity, Config.MaxPositionEmbeddings) + 15) / 16), growable: true);
        return new LatentCache(pool, Config, ownsPool: true);
    }

    public void Dispose()
    {
        _embed.Dispose();
        foreach (var block in _blocks) block.Dispose();
        _norm.Dispose();
        _head.Dispose();
        _rope.Dispose();
        _experts.Dispose();
    }
}
