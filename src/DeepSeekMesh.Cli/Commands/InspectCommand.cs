using System.CommandLine;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Weights;
using TorchSharp;

namespace DeepSeekMesh.Cli.Commands;

/// <summary>
/// <c>dsmesh inspect --model DIR</c>: the architecture, stored sizes, bytes per routed expert and KV cache per token.
/// <c>dsmesh inspect --devices [--require cpu|cuda-build|cuda]</c>: the libtorch found, its version, whether it has
/// every symbol LibTorchSharp needs, then (only if so) loads it and lists the CUDA devices.
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = new Option<DirectoryInfo?>("--model") { Description = "HuggingFace model directory (config.json + *.safetensors)" };
        var devices = new Option<bool>("--devices") { Description = "the libtorch this process loads, its version and symbols, and the CUDA devices" };
        var require = new Option<string?>("--require")
        {
            Description = "with --devices: exit 1 unless libtorch loads (cpu), is a CUDA build (cuda-build) or sees a CUDA device (cuda)",
        };
        require.AcceptOnlyFromAmong("cpu", "cuda-build", "cuda");
        var command = new Command("inspect", "Summarize a model directory without loading its weights, or the devices (--devices)") { model, devices, require };
        command.SetAction(parse =>
        {
            if (parse.GetValue(devices)) return DeviceReport.Print(parse.GetValue(require));
            var dir = (parse.GetValue(model) ?? throw new UsageException("give --model DIR or --devices")).FullName;
            var c = ModelConfig.Load(dir);
            using var checkpoint = Checkpoint.Open(dir);
            var names = checkpoint.TensorNames.ToList();
            long total = names.Sum(n => checkpoint.Find(n).Entry.ByteCount);
            var expertLayer = Enumerable.Range(0, c.NumHiddenLayers).FirstOrDefault(c.IsMoeLayer, -1);
            long expertBytes = expertLayer < 0 ? 0 : checkpoint.StoredBytes(
                new[] { "gate_proj", "up_proj", "down_proj" }.Select(m => $"model.layers.{expertLayer}.mlp.experts.0.{m}.weight"));
            var dtypes = names.GroupBy(n => checkpoint.Find(n).Entry.DType).Select(g => $"{g.Key}×{g.Count()}");
            var o = Console.Out;
            o.WriteLine($"model            {dir}");
            o.WriteLine($"architecture     DeepSeek-V3: {c.NumHiddenLayers} layers ({c.FirstKDenseReplace} dense, {c.NumHiddenLayers - c.FirstKDenseReplace} MoE), hidden {c.HiddenSize}, vocab {c.VocabSize}");
            o.WriteLine($"attention        MLA: {c.NumAttentionHeads} heads, q_lora {c.QLoraRank}, kv_lora {c.KvLoraRank}, nope {c.QkNopeHeadDim}, rope {c.QkRopeHeadDim}, v {c.VHeadDim}");
            o.WriteLine($"rope             theta {c.RopeTheta}{(c.RopeScaling is { } y ? $", YaRN ×{y.Factor} from {y.OriginalMaxPositionEmbeddings}, mscale² {y.SoftmaxMscale * y.SoftmaxMscale:F4}" : "")}, context {c.MaxPositionEmbeddings}");
            o.WriteLine($"experts          {c.NRoutedExperts} routed (intermediate {c.MoeIntermediateSize}) + {c.NSharedExperts} shared; top-{c.NumExpertsPerTok} in {c.TopkGroup} of {c.NGroup} groups; routed scale {c.RoutedScalingFactor}");
            o.WriteLine($"quantization     {(c.WeightBlockSize is { } b ? $"FP8 E4M3, {b[0]}x{b[1]} block scales" : "none")}");
            o.WriteLine($"tensors          {names.Count} ({string.Join(", ", dtypes)}), {total:N0} bytes ({total / 1e9:F3} GB)");
            o.WriteLine($"routed expert    {expertBytes:N0} bytes each; {(long)c.NRoutedExperts * (c.NumHiddenLayers - c.FirstKDenseReplace)} expert grains");
            long expertParameters = ParameterCounts.Expert(c);
            // Resident per routed expert by --weights: FP8 keeps the checkpoint's codes and scales (plus a 4-byte scale-row index per output row).
            var fp8 = c.WeightBlockSize is not null ? $"fp8 {expertBytes + 4L * (2L * c.MoeIntermediateSize + c.HiddenSize):N0}, " : "";
            o.WriteLine($"expert resident  {fp8}bf16 {expertParameters * 2:N0}, f32 {expertParameters * 4:N0} bytes each");
            o.WriteLine($"KV cache         {LatentCache.BytesPerToken(c, torch.ScalarType.Float32):N0} bytes per token in f32 ({LatentCache.BytesPerToken(c, torch.ScalarType.BFloat16):N0} in bf16)");
            return 0;
        });
        return command;
    }
}
