using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Inference;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// Multi-head Latent Attention. Queries go through a low-rank bottleneck (q_a → RMSNorm → q_b, or
/// q_proj when q_lora_rank is 0); keys and values are compressed into one normalized latent per
/// token plus a decoupled, roped k_pe shared by all heads — the only things cached.
/// kv_b_proj expands the latent into per-head k_nope and v (naive), or is folded into the query
/// and the output so attention runs on the latents directly (absorbed: decoding sequences, all at
/// once). The two projections of the block input (q_a_proj or q_proj, and kv_a_proj_with_mqa) are
/// held stacked as one GEMM.
/// </summary>
public sealed class Mla : IDisposable
{
    readonly ModelConfig _c;
    readonly int _layer;
    readonly AttentionImpl _impl;
    readonly Linear _wqkvA;  // [q_lora_rank (or heads · qk_head) + kv_lora_rank + rope, hidden]
    readonly Linear? _wqB;
    readonly RmsNorm? _qNorm;
    readonly Tensor _wkvB; // [heads, nope + v, kv_lora_rank] in the compute dtype: read whole by the absorbed path
    readonly Linear _wo;
    readonly long _qWidth;
    readonly RmsNorm _kvNorm;
    readonly TorchSharp.Scalar _softmaxScale; // held: a temporary Scalar may be finalized mid-call

    public Mla(LoadContext ctx, int layer)
    {
        var c = _c = ctx.Config;
        _layer = layer;
        _impl = ctx.Options.Attention;
        _softmaxScale = c.SoftmaxScale;
        var p = $"model.layers.{layer}.self_attn";
        int heads = c.NumAttentionHeads;
        _qWidth = c.QLoraRank == 0 ? heads * c.QkHeadDim : c.QLoraRank;
        var kvA = ($"{p}.kv_a_proj_with_mqa.weight", (long)(c.KvLoraRank + c.QkRopeHeadDim));
        if (c.QLoraRank == 0)
        {
            _wqkvA = ctx.FusedLinear([($"{p}.q_proj.weight", _qWidth), kvA], c.HiddenSize);
        }
        else
        {
            _wqkvA = ctx.FusedLinear([($"{p}.q_a_proj.weight", _qWidth), kvA], c.HiddenSize);
            _qNorm = RmsNorm.Load(ctx, $"{p}.q_a_layernorm.weight", c.QLoraRank);
            _wqB = ctx.Linear($"{p}.q_b_proj.weight", heads * c.QkHeadDim, c.QLoraRank);
        }
        _kvNorm = RmsNorm.Load(ctx, $"{p}.kv_a_layernorm.weight", c.KvLoraRank);
        using (var wkvB = ctx.Matrix($"{p}.kv_b_proj.weight", heads * (c.QkNopeHeadDim + c.VHeadDim), c.KvLoraRank, ctx.Options.ComputeDtype))
            _wkvB = wkvB.view(heads, c.QkNopeHeadDim + c.VHeadDim, c.KvLoraRank); // converted once here, not every step
        _wo = ctx.Linear($"{p}.o_proj.weight", c.HiddenSize, heads * c.VHeadDim);
    }

    public Tensor Forward(Tensor x, ForwardBatch batch, Tensor cos, Tensor sin) // [T, hidden] -> [T, hidden]
    {
        using var scope = NewDisposeScope();
        long T = x.shape[0];
        int H = _c.NumAttentionHeads, nope = _c.QkNopeHeadDim, rope = _c.QkRopeHeadDim, c = _c.KvLoraRank;

        var qkv = _wqkvA.Forward(x); // [T, q_lora (or H · qk_head) + c + rope]
        var q = Query(qkv.narrow(-1, 0, _qWidth)).view(T, H, nope + rope); // [T, H, nope + rope]
        var q_nope = q.narrow(-1, 0, nope); // [T, H, nope]
        var q_pe = RotaryEmbedding.Apply(q.narrow(-1, nope, rope), cos, sin); // [T, H, rope]
        var kv = qkv.narrow(-1, _qWidth, c + rope); // [T, c + rope]
        var latent = _kvNorm.Forward(kv.narrow(-1, 0, c)); // [T, c]
        var k_pe = RotaryEmbedding.Apply(kv.narrow(-1, c, rope), cos, sin); // [T, rope]

        Tensor o; // [T, H, v]
        if (batch.Groups.Count == 1)
        {
            o = Attend(batch.Groups[0], q_nope, q_pe, latent, k_pe);
        }
        else
        {
            o = empty([T, H, _c.VHeadDim], x.dtype, x.device);
            foreach (var g in batch.Groups)
                o.index_copy_(0, g.Rows!, Attend(g, q_nope.index_select(0, g.Rows!), q_pe.index_select(0, g.Rows!), latent.index_select(0, g.Rows!), k_pe.index_select(0, g.Rows!)));
        }
        return _wo.Forward(o.flatten(1)).MoveToOuterDisposeScope(); // [T, hidden]
    }

    Tensor Query(Tensor qa) => _wqB is null
        ? qa // q_proj output: [T, H * qk_head]
        : _wqB.Forward(_qNorm!.Forward(qa)); // [T, q_lora] -> [T, H * qk_head]

    /// <summary>
    /// One cache group's attention: its new latents written into the pool and every sequence's cached
    /// positions gathered at once; the leading single-token (decoding) sequences attend in one batched
    /// computation, each longer one (a prompt chunk) on its own.
    /// </summary>
    Tensor Attend(CacheGroup g, Tensor q_nope, Tensor q_pe, Tensor latent, Tensor k_pe) // [Tg, H, nope], [Tg, H, rope], [Tg, c], [Tg, rope] -> [Tg, H, v]
    {
        int c = _c.KvLoraRank, rope = _c.QkRopeHeadDim;
        var latentStore = g.Pool.Latent(_layer); // [pool rows, c]
        var peStore = g.Pool.Pe(_layer); // [pool rows, rope]
        latentStore.index_copy_(0, g.WriteRows, latent);
        peStore.index_copy_(0, g.WriteRows, k_pe);
        var read = g.ReadRows.flatten(); // [Sg · L]
        var keys = latentStore.index_select(0, read).view(g.Sequences.Count, g.Length, c); // [Sg, L, c]
        var pes = peStore.index_select(0, read).view(g.Sequences.Count, g.Length, rope); // [Sg, L, rope]

        var outputs = new List<Tensor>();
        int decoding = _impl == AttentionImpl.Naive ? 0 : g.Decoding, row = decoding;
        if (decoding > 0)
            outputs.Add(Absorbed(q_nope.narrow(0, 0, decoding), q_pe.narrow(0, 0, decoding), keys.narrow(0, 0, decoding), pes.narrow(0, 0, decoding),
                g.Padding.narrow(0, 0, decoding))); // [D, H, v]: position End - 1 sees everything but the padding
        for (int j = decoding; j < g.Sequences.Count; j++)
        {
            var s = g.Sequences[j];
            var (qn, qp) = (q_nope.narrow(0, row, s.Count), q_pe.narrow(0, row, s.Count)); // [n, H, nope], [n, H, rope]
            var (cachedLatent, cachedPe) = (keys[j].narrow(0, 0, s.End), pes[j].narrow(0, 0, s.End)); // [L', c], [L', rope]
            var future = arange(s.End, device: latent.device).unsqueeze(0) > arange(s.Start, s.End, device: latent.device).unsqueeze(1); // [n, L']
            outputs.Add(_impl == AttentionImpl.Absorb
                ? Absorbed(qn, qp, cachedLatent.unsqueeze(0), cachedPe.unsqueeze(0), future) // [n, H, v]
                : Naive(qn, qp, cachedLatent, cachedPe, future)); // [n, H, v]
            row += s.Count;
        }
        return outputs.Count == 1 ? outputs[0] : cat(outputs, 0); // [Tg, H, v]
    }

    /// <summary>Per-head keys and values expanded from the cached latents (the reference's "naive" path), for one sequence.</summary>
    Tensor Naive(Tensor q_nope, Tensor q_pe, Tensor cachedLatent, Tensor cachedPe, Tensor masked) // [n, H, nope], [n, H, rope], [L, c], [L, rope], [n, L] -> [n, H, v]
    {
        int H = _c.NumAttentionHeads, nope = _c.QkNopeHeadDim;
        var kv = cachedLatent.matmul(_wkvB.view(-1, _c.KvLoraRank).t()).view(-1, H, nope + _c.VHeadDim); // [L, H, nope + v]
        var k_nope = kv.narrow(-1, 0, nope); // [L, H, nope]
        var v = kv.narrow(-1, nope, _c.VHeadDim); // [L, H, v]
        var scores = einsum("nhd,lhd->nhl", q_nope, k_nope) + einsum("nhr,lr->nhl", q_pe, cachedPe); // [n, H, L]
        return einsum("nhl,lhd->nhd", Softmax(scores, masked), v); // [n, H, v]
    }

    /// <summary>
    /// kv_b folded into the query and the output: scores and values come straight from the latents.
    /// N query rows against B gathered caches, m = N / B rows per cache (B decoding sequences of one
    /// token each, or one sequence of N tokens), as batched matrix products.
    /// </summary>
    Tensor Absorbed(Tensor q_nope, Tensor q_pe, Tensor keys, Tensor pes, Tensor masked) // [N, H, nope], [N, H, rope], [B, L, c], [B, L, rope], [N, L] -> [N, H, v]
    {
        int H = _c.NumAttentionHeads, nope = _c.QkNopeHeadDim, c = _c.KvLoraRank;
        long N = q_nope.shape[0], B = keys.shape[0], L = keys.shape[1];
        var q_latent = einsum("thd,hdc->thc", q_nope, _wkvB.narrow(1, 0, nope)).reshape(B, -1, c); // [B, m·H, c]
        var scores = q_latent.bmm(keys.transpose(1, 2)) + q_pe.reshape(B, -1, _c.QkRopeHeadDim).bmm(pes.transpose(1, 2)); // [B, m·H, L]
        var probs = Softmax(scores.view(N, H, L), masked).view(B, -1, L); // [B, m·H, L]
        var o_latent = probs.bmm(keys).view(N, H, c); // [N, H, c]
        return einsum("thc,hdc->thd", o_latent, _wkvB.narrow(1, nope, _c.VHeadDim)); // [N, H, v]
    }

    /// <summary>Scaled softmax over the cached positions, masked ones (future or padding) excluded.</summary>
    Tensor Softmax(Tensor scores, Tensor masked) // [n, H, L], [n, L] bool -> [n, H, L]
    {
        scores = (scores * _softmaxScale).masked_fill(masked.unsqueeze(1), Scalars.NegativeInfinity); // [n, H, L]
        return scores.softmax(-1, ScalarType.Float32).to(scores.dtype); // [n, H, L]
    }

    public void Dispose()
    {
        foreach (var d in new IDisposable?[] { _wqkvA, _wqB, _qNorm, _wkvB, _wo, _kvNorm, _softmaxScale }) d?.Dispose();
    }
}
