using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Inference;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// Multi-head Latent Attention. Queries go through a low-rank bottleneck (q_a → RMSNorm → q_b, or
/// q_proj when q_lora_rank is 0); keys and values are compressed into one normalized latent per
/// token plus a decoupled, roped k_pe shared by all heads — the only things cached.
/// kv_b_proj expands the latent into per-head k_nope and v (naive), or is folded into the query
/// and the output so attention runs on the latents directly (absorbed). The two projections of
/// the block input (q_a_proj or q_proj, and kv_a_proj_with_mqa) are held stacked as one GEMM.
/// </summary>
public sealed class Mla : IDisposable
{
    readonly ModelConfig _c;
    readonly int _layer;
    readonly AttentionImpl _impl;
    readonly Linear _wqkvA;  // [q_lora_rank (or heads · qk_head) + kv_lora_rank + rope, hidden]
    readonly Linear? _wqB;
    readonly RmsNorm? _qNorm;
    readonly Linear _wkvB, _wo;
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
        _wkvB = ctx.Linear($"{p}.kv_b_proj.weight", heads * (c.QkNopeHeadDim + c.VHeadDim), c.KvLoraRank);
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

        bool absorb = _impl == AttentionImpl.Absorb || (_impl == AttentionImpl.Auto && batch.Sequences.All(s => s.Count == 1));
        var wkv_b = _wkvB.Weight.to(x.dtype).view(H, nope + _c.VHeadDim, c); // [H, nope + v, c]
        var o = absorb
            ? Absorbed(batch, q_nope, q_pe, latent, k_pe, wkv_b) // [T, H, v]
            : Naive(batch, q_nope, q_pe, latent, k_pe); // [T, H, v]
        return _wo.Forward(o.flatten(1)).MoveToOuterDisposeScope(); // [T, hidden]
    }

    Tensor Query(Tensor qa) => _wqB is null
        ? qa // q_proj output: [T, H * qk_head]
        : _wqB.Forward(_qNorm!.Forward(qa)); // [T, q_lora] -> [T, H * qk_head]

    /// <summary>Per-head keys and values expanded from the cached latents (the reference's "naive" path).</summary>
    Tensor Naive(ForwardBatch batch, Tensor q_nope, Tensor q_pe, Tensor latent, Tensor k_pe)
    {
        int H = _c.NumAttentionHeads, nope = _c.QkNopeHeadDim;
        var outputs = new Tensor[batch.Sequences.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            var s = batch.Sequences[i];
            var (cachedLatent, cachedPe) = Cache(s, latent, k_pe); // [L, c], [L, rope]
            var kv = _wkvB.Forward(cachedLatent).view(-1, H, nope + _c.VHeadDim); // [L, H, nope + v]
            var k_nope = kv.narrow(-1, 0, nope); // [L, H, nope]
            var v = kv.narrow(-1, nope, _c.VHeadDim); // [L, H, v]
            var scores = einsum("nhd,lhd->nhl", q_nope.narrow(0, s.Row, s.Count), k_nope)
                       + einsum("nhr,lr->nhl", q_pe.narrow(0, s.Row, s.Count), cachedPe); // [n, H, L]
            var probs = Softmax(scores, s); // [n, H, L]
            outputs[i] = einsum("nhl,lhd->nhd", probs, v); // [n, H, v]
        }
        return cat(outputs, 0); // [T, H, v]
    }

    /// <summary>kv_b folded into the query and the output: scores and values come straight from the latent cache.</summary>
    Tensor Absorbed(ForwardBatch batch, Tensor q_nope, Tensor q_pe, Tensor latent, Tensor k_pe, Tensor wkv_b)
    {
        int H = _c.NumAttentionHeads, nope = _c.QkNopeHeadDim, c = _c.KvLoraRank;
        var q_latent = einsum("thd,hdc->thc", q_nope, wkv_b.narrow(1, 0, nope)); // [T, H, c]
        var outputs = new Tensor[batch.Sequences.Count];
        for (int i = 0; i < outputs.Length; i++)
        {
            var s = batch.Sequences[i];
            var (cachedLatent, cachedPe) = Cache(s, latent, k_pe); // [L, c], [L, rope]
            var qs = q_latent.narrow(0, s.Row, s.Count).reshape(s.Count * H, c); // [n·H, c]
            var qp = q_pe.narrow(0, s.Row, s.Count).reshape(s.Count * H, _c.QkRopeHeadDim); // [n·H, rope]
            var scores = (qs.matmul(cachedLatent.t()) + qp.matmul(cachedPe.t())).view(s.Count, H, -1); // [n, H, L]
            var probs = Softmax(scores, s).view(s.Count * H, -1); // [n·H, L]
            outputs[i] = probs.matmul(cachedLatent).view(s.Count, H, c); // [n, H, c]
        }
        var o_latent = cat(outputs, 0); // [T, H, c]
        return einsum("thc,hdc->thd", o_latent, wkv_b.narrow(1, nope, _c.VHeadDim)); // [T, H, v]
    }

    (Tensor Latent, Tensor Pe) Cache(SequenceSlice s, Tensor latent, Tensor k_pe) =>
        s.Cache.Write(_layer, s.Start, latent.narrow(0, s.Row, s.Count), k_pe.narrow(0, s.Row, s.Count));

    /// <summary>Scaled, causally masked softmax over the cached positions.</summary>
    Tensor Softmax(Tensor scores, SequenceSlice s) // [n, H, L] -> [n, H, L]
    {
        scores = scores * _softmaxScale; // [n, H, L]
        if (s.Count > 1)
        {
            var future = CausalMask(s.Start, s.Count, (int)scores.shape[2], scores.device); // [n, L]
            scores = scores.masked_fill(future.unsqueeze(1), Scalars.NegativeInfinity); // [n, H, L]
        }
        return scores.softmax(-1, ScalarType.Float32).to(scores.dtype); // [n, H, L]
    }

    /// <summary>True where key position t lies after query position start + i.</summary>
    static Tensor CausalMask(int start, int count, int length, Device device)
    {
        var mask = new bool[count * length];
        for (int i = 0; i < count; i++)
            for (int t = start + i + 1; t < length; t++) mask[i * length + t] = true;
        return tensor(mask, device: device).view(count, length);
    }

    public void Dispose()
    {
        foreach (var d in new IDisposable?[] { _wqkvA, _wqB, _qNorm, _wkvB, _wo, _kvNorm, _softmaxScale }) d?.Dispose();
    }
}
