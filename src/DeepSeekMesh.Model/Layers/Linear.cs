using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace DeepSeekMesh.Model.Layers;

/// <summary>
/// y = x Wᵀ (no bias in DeepSeek-V3). The weight is a dense tensor (possibly narrower than the
/// activations) or FP8 codes with block scales, dequantized inside the product.
/// </summary>
public sealed class Linear : IDisposable
{
    readonly Tensor? _dense;        // [out, in]
    readonly Fp8Weight? _fp8;
    Tensor? _dequantized;           // [out, in] f32, made on the first read of Weight

    public Linear(Tensor weight) => _dense = weight;

    public Linear(Fp8Weight weight) => _fp8 = weight;

    /// <summary>The dense weight [out, in]; for FP8 a dequantized f32 copy, made on first use and kept (kv_b's absorbed attention reads it as a tensor).</summary>
    public Tensor Weight => _dense ?? (_dequantized ??= _fp8!.Dequantize(ScalarType.Float32).DetachFromDisposeScope());

    /// <summary>The FP8 codes and scales, when the weight is held so.</summary>
    public Fp8Weight? Fp8 => _fp8;

    public long OutFeatures => _dense?.shape[0] ?? _fp8!.OutFeatures;
    public long InFeatures => _dense?.shape[1] ?? _fp8!.InFeatures;

    public long ParameterCount => OutFeatures * InFeatures;

    /// <summary>Bytes this projection holds in memory.</summary>
    public long ResidentBytes => (_dense is { } d ? d.numel() * d.element_size() : _fp8!.Bytes)
                                 + (_dequantized is { } q ? q.numel() * q.element_size() : 0);

    public Tensor Forward(Tensor x) // [..., in] -> [..., out]
    {
        if (_fp8 is not null && _dequantized is null) return Fp8Forward(x);
        var weight = Weight;
        if (DenseGemv.Applies(x, weight)) return DenseGemv.Forward(x, weight);
        if (x.dtype == weight.dtype) return F.linear(x, weight);
        if (weight.element_size() < x.element_size()) // bf16 weights, f32 activations (prefill): widen the weight, exactly
        {
            using var wide = weight.to(x.dtype); // [out, in]
            return F.linear(x, wide);
        }
        using var wideX = x.to(weight.dtype); // f32 weights, bf16 activations: the product in f32, rounded once
        using var y = F.linear(wideX, weight);
        return y.to(x.dtype);
    }

    Tensor Fp8Forward(Tensor x) // [..., in] -> [..., out]
    {
        if (Fp8Gemv.Applies(x)) return Grouped([this], [x]);
        using var dense = _fp8!.Dequantize(x.dtype); // [out, in]
        return F.linear(x, dense);
    }

    /// <summary>
    /// Several projections of the same widths, each on its own rows (the routed experts of one layer):
    /// [Σ n_i, out], rows in the order given. On the CPU, a few rows each (decode), FP8 weights run as
    /// ONE <see cref="Fp8Gemv"/> loop over all of them and dense fp32 or bf16 weights as one
    /// <see cref="DenseGemv"/> loop; otherwise (prefill, CUDA) each runs its own GEMM.
    /// </summary>
    public static unsafe Tensor Grouped(IReadOnlyList<Linear> weights, IReadOnlyList<Tensor> xs) // xs[i] [n_i, in] -> [Σ n_i, out]
    {
        if (weights.Count == 0) throw new ArgumentException("no projections to run", nameof(weights));
        long outFeatures = weights[0].OutFeatures;
        for (int i = 0; i < weights.Count; i++)
            if (weights[i].OutFeatures != outFeatures || weights[i].InFeatures != xs[i].shape[^1])
                throw new ArgumentException($"grouped projection {i} is [{weights[i].OutFeatures}, {weights[i].InFeatures}], rows have {xs[i].shape[^1]} values and the group {outFeatures} outputs");
        bool fp8 = weights.All(w => w._fp8 is { ExactBlocks: not null } && w._dequantized is null) && xs.All(Fp8Gemv.Applies);
        var dtype = weights[0]._dense?.dtype;
        bool dense = !fp8 && dtype is not null
                     && weights.All(w => w._dense is { } d && d.dtype == dtype && d.device_type == TorchSharp.DeviceType.CPU && d.is_contiguous())
                     && xs.All(x => DenseGemv.Accepts(x, dtype.Value));
        if (!fp8 && !dense)
        {
            using var scope = NewDisposeScope();
            return cat(weights.Select((w, i) => w.Forward(xs[i])).ToList(), 0).MoveToOuterDisposeScope();
        }
        var y = empty([xs.Sum(x => x.shape[0]), outFeatures], ScalarType.Float32); // [Σ n, out]
        var inputs = xs.Select(x => x.is_contiguous() ? x.alias() : x.contiguous()).ToArray();
        try
        {
            long row = 0;
            float* output = (float*)Inference.TensorData.Pointer(y);
            if (fp8)
            {
                var products = new Fp8Gemv.Product[weights.Count];
                for (int i = 0; i < products.Length; i++)
                {
                    var w = weights[i]._fp8!;
                    int n = (int)inputs[i].shape[0];
                    products[i] = new Fp8Gemv.Product(Inference.TensorData.Pointer(w.Codes), (float*)Inference.TensorData.Pointer(w.Scales),
                        (int*)Inference.TensorData.Pointer(w.ScaleRow), Inference.TensorData.Pointer(w.ExactBlocks!), (int)w.Scales.shape[1], w.BlockCols,
                        (float*)Inference.TensorData.Pointer(inputs[i]), output + row * outFeatures, n, (int)outFeatures, (int)w.InFeatures);
                    row += n;
                }
                Fp8Gemv.Run(products);
            }
            else
            {
                var products = new DenseGemv.Product[weights.Count];
                for (int i = 0; i < products.Length; i++)
                {
                    int n = (int)inputs[i].shape[0];
                    products[i] = new DenseGemv.Product(Inference.TensorData.Pointer(weights[i]._dense!), (float*)Inference.TensorData.Pointer(inputs[i]),
                        output + row * outFeatures, n, (int)outFeatures, (int)weights[i].InFeatures);
                    row += n;
                }
                DenseGemv.Run(products, dtype!.Value);
            }
        }
        finally
        {
            foreach (var input in inputs) input.Dispose();
        }
        return y;
    }

    public void Dispose()
    {
        _dense?.Dispose();
        _fp8?.Dispose();
        _dequantized?.Dispose();
    }
}
