using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Weights;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Presets;

public enum CheckpointDtype { Bf16, Fp8 }

/// <summary>
/// Writes a random-weight HuggingFace checkpoint for a config: every tensor DeepSeek-V3 has, with
/// its HF name and shape, BF16 or FP8 E4M3 with 128×128 block scales like the real release.
/// Linear weights are N(0, 1/fan_in) so activations stay O(1) through the layers and the logits
/// are not all tiny; norms are 1; the gate bias is small noise so it only nudges selection.
/// </summary>
public static class RandomCheckpoint
{
    public static void Write(JsonObject configJson, string directory, ulong seed, CheckpointDtype dtype, long maxShardBytes = 2L << 30, Action<int, int>? progress = null)
    {
        var config = ModelConfig.Parse(configJson, "preset");
        Directory.CreateDirectory(directory);
        if (dtype == CheckpointDtype.Fp8)
            configJson["quantization_config"] = new JsonObject
            {
                ["quant_method"] = "fp8", ["fmt"] = "e4m3", ["activation_scheme"] = "dynamic",
                ["weight_block_size"] = new JsonArray(128, 128),
            };
        configJson["dsmesh_random_weights"] = true; // the gateway's /v1/models says so: this is a demo model
        File.WriteAllText(Path.Combine(directory, "config.json"), configJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

        var tensors = Tensors(config, dtype, new Noise(seed)).ToList();
        int done = 0;
        var reporting = tensors.Select(t => t with
        {
            Bytes = () => { var b = t.Bytes(); progress?.Invoke(++done, tensors.Count); return b; },
        }).ToList();
        SafetensorsWriter.WriteModel(directory, reporting, maxShardBytes);
    }

    static IEnumerable<TensorToWrite> Tensors(ModelConfig c, CheckpointDtype dtype, Noise noise)
    {
        long D = c.HiddenSize, H = c.NumAttentionHeads;
        ulong index = 0;
        TensorToWrite Vector(string name, long n, float value) => new(name, SafetensorsDType.BF16, [n], () => Bf16(Enumerable.Repeat(value, (int)n).ToArray()));
        TensorToWrite Normal(string name, long rows, long cols, double std)
        {
            ulong tensor = index++;
            return new(name, SafetensorsDType.BF16, [rows, cols], () => rows * cols > Noise.WholeLimit
                ? noise.NormalBf16InPieces(tensor, rows * cols, std)
                : Bf16(noise.Normal(tensor, rows * cols, std)));
        }
        IEnumerable<TensorToWrite> Linear(string name, long outF, long inF, double gain = 1.0)
        {
            if (dtype != CheckpointDtype.Fp8)
            {
                yield return Normal(name, outF, inF, gain / Math.Sqrt(inF));
                yield break;
            }
            ulong tensor = index++;
            var pair = new Fp8.Pair(() => noise.Normal(tensor, outF * inF, gain / Math.Sqrt(inF)), (int)outF, (int)inF);
            yield return new(name, SafetensorsDType.F8_E4M3, [outF, inF], pair.TakeWeight);
            yield return new(name + "_scale_inv", SafetensorsDType.F32, [(outF + 127) / 128, (inF + 127) / 128], pair.TakeScales);
        }
        IEnumerable<TensorToWrite> Mlp(string p, long inter)
        {
            foreach (var t in Linear($"{p}.gate_proj.weight", inter, D)) yield return t;
            foreach (var t in Linear($"{p}.up_proj.weight", inter, D)) yield return t;
            foreach (var t in Linear($"{p}.down_proj.weight", D, inter)) yield return t;
        }

        yield return Normal("model.embed_tokens.weight", c.VocabSize, D, 1.0);
        for (int layer = 0; layer < c.NumHiddenLayers; layer++)
        {
            var p = $"model.layers.{layer}";
            yield return Vector($"{p}.input_layernorm.weight", D, 1f);
            yield return Vector($"{p}.post_attention_layernorm.weight", D, 1f);
            var a = $"{p}.self_attn";
            if (c.QLoraRank == 0)
            {
                foreach (var t in Linear($"{a}.q_proj.weight", H * c.QkHeadDim, D)) yield return t;
            }
            else
            {
                foreach (var t in Linear($"{a}.q_a_proj.weight", c.QLoraRank, D)) yield return t;
                yield return Vector($"{a}.q_a_layernorm.weight", c.QLoraRank, 1f);
                foreach (var t in Linear($"{a}.q_b_proj.weight", H * c.QkHeadDim, c.QLoraRank)) yield return t;
            }
            foreach (var t in Linear($"{a}.kv_a_proj_with_mqa.weight", c.KvLoraRank + c.QkRopeHeadDim, D)) yield return t;
            yield return Vector($"{a}.kv_a_layernorm.weight", c.KvLoraRank, 1f);
            foreach (var t in Linear($"{a}.kv_b_proj.weight", H * (c.QkNopeHeadDim + c.VHeadDim), c.KvLoraRank)) yield return t;
            foreach (var t in Linear($"{a}.o_proj.weight", D, H * c.VHeadDim, gain: 0.5)) yield return t;
            if (!c.IsMoeLayer(layer))
            {
                foreach (var t in Mlp($"{p}.mlp", c.IntermediateSize)) yield return t;
                continue;
            }
            yield return Normal($"{p}.mlp.gate.weight", c.NRoutedExperts, D, 1.0 / Math.Sqrt(D));
            ulong bias = index++;
            yield return new($"{p}.mlp.gate.e_score_correction_bias", SafetensorsDType.F32, [c.NRoutedExperts],
                () => MemoryMarshal.AsBytes(noise.Normal(bias, c.NRoutedExperts, 0.01).AsSpan()).ToArray());
            for (int e = 0; e < c.NRoutedExperts; e++)
                foreach (var t in Mlp($"{p}.mlp.experts.{e}", c.MoeIntermediateSize)) yield return t;
            foreach (var t in Mlp($"{p}.mlp.shared_experts", (long)c.MoeIntermediateSize * c.NSharedExperts)) yield return t;
        }
        yield return Vector("model.norm.weight", D, 1f);
        yield return Normal("lm_head.weight", c.VocabSize, D, 2.0 / Math.Sqrt(D));
    }

    static byte[] Bf16(float[] values)
    {
        var bytes = new byte[values.Length * 2];
        var bits = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan());
        for (int i = 0; i < values.Length; i++) bits[i] = ElementDecoder.FloatToBf16(values[i]);
        return bytes;
    }

    /// <summary>Reproducible normal samples per tensor: torch's CPU generator seeded from (seed, tensor index).</summary>
    sealed class Noise(ulong seed)
    {
        /// <summary>
        /// Tensors up to this many elements (every preset's but <c>v3-widths</c>' embedding and
        /// lm_head) are drawn whole, as they always were; larger ones in pieces.
        /// </summary>
        public const long WholeLimit = 1L << 28;

        const long Piece = 1L << 24;

        /// <summary>
        /// A tensor over <see cref="WholeLimit"/> (V3's 926 M-element embedding) straight to bf16
        /// bytes: 16 M-element pieces, each from its own generator seeded from (seed, tensor, piece),
        /// drawn in parallel. No float copy of the whole tensor (3.7 GB) is ever held.
        /// </summary>
        public unsafe byte[] NormalBf16InPieces(ulong tensor, long count, double std)
        {
            var bytes = new byte[checked(count * 2)];
            int pieces = (int)((count + Piece - 1) / Piece);
            fixed (byte* destination = bytes)
            {
                var bf16 = (ushort*)destination;
                Parallel.For(0, pieces, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, Environment.ProcessorCount / 2) }, p =>
                {
                    long first = p * Piece, n = Math.Min(Piece, count - first);
                    using var scope = NewDisposeScope();
                    using var g = new TorchSharp.torch.Generator(SplitMix(seed ^ SplitMix(tensor + 1) ^ SplitMix((ulong)p + 0x100000000UL)) >> 1);
                    using var scale = (TorchSharp.Scalar)std;
                    using var values = randn([n], generator: g).mul_(scale);
                    Bf16Conversion.Narrow((float*)TensorData.Pointer(values), bf16 + first, n);
                });
            }
            return bytes;
        }

        public float[] Normal(ulong tensor, long count, double std)
        {
            using var scope = NewDisposeScope();
            using var g = new TorchSharp.torch.Generator(SplitMix(seed ^ SplitMix(tensor + 1)) >> 1);
            using var scale = (TorchSharp.Scalar)std; // held: a temporary Scalar may be finalized mid-call
            return TensorData.ToArray<float>(randn([count], generator: g).mul_(scale));
        }

        static ulong SplitMix(ulong x)
        {
            x += 0x9E3779B97F4A7C15;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
            return x ^ (x >> 31);
        }
    }

    /// <summary>Block-wise FP8 E4M3 quantization: each 128×128 block scaled so its largest magnitude maps to 448.</summary>
    static class Fp8
    {
        /// <summary>A weight and its scales, quantized once: the weight is written first, then the scales.</summary>
        public sealed class Pair(Func<float[]> weights, int rows, int cols)
        {
            (byte[] Weight, float[] Scales)? _value;

            public byte[] TakeWeight() => (_value ??= Quantize(weights(), rows, cols)).Weight;

            public byte[] TakeScales()
            {
                var scales = (_value ?? Quantize(weights(), rows, cols)).Scales;
                _value = null;
                return MemoryMarshal.AsBytes(scales.AsSpan()).ToArray();
            }
        }

        public static (byte[] Weight, float[] Scales) Quantize(float[] w, int rows, int cols)
        {
            int sr = (rows + 127) / 128, sc = (cols + 127) / 128;
            var scales = new float[sr * sc];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    ref var s = ref scales[r / 128 * sc + c / 128];
                    s = Math.Max(s, Math.Abs(w[r * cols + c]));
                }
            for (int i = 0; i < scales.Length; i++) scales[i] = scales[i] > 0 ? scales[i] / 448f : 1f;
            var q = new byte[w.Length];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    q[r * cols + c] = ElementDecoder.FloatToFp8E4M3(w[r * cols + c] / scales[r / 128 * sc + c / 128]);
            return (q, scales);
        }
    }
}
