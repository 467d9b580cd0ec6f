using DeepSeekMesh.Contracts;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Layers;
using DeepSeekMesh.Model.Weights;
using DeepSeekMesh.Silo.Frontend;
using DeepSeekMesh.Silo.Mesh;
using static TorchSharp.torch;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>An expert grain owns exactly its three matrices and computes what the local expert computes.</summary>
public sealed class ExpertGrainTests
{
    [Fact]
    public async Task ExpertGrainLoadsOnlyItsOwnTensors()
    {
        var source = TestModels.Conformance("tiny-c"); // FP8 with block scales
        int layer = 1, expert = 3;
        var prefix = $"model.layers.{layer}.mlp.experts.{expert}";
        string[] own = [$"{prefix}.gate_proj.weight", $"{prefix}.up_proj.weight", $"{prefix}.down_proj.weight"];

        // An expert silo whose model directory holds ONLY this expert's tensors (and their FP8 scales).
        var stripped = Scratch.NewDirectory("one-expert-");
        try
        {
            File.Copy(Path.Combine(source, "config.json"), Path.Combine(stripped, "config.json"));
            using (var checkpoint = Checkpoint.Open(source))
            {
                var names = own.Concat(own.Select(n => n + "_scale_inv")).Where(checkpoint.Contains).ToArray();
                SafetensorsWriter.Write(Path.Combine(stripped, "model.safetensors"), names.Select(n =>
                {
                    var (file, entry) = checkpoint.Find(n);
                    var bytes = file.Bytes(entry).ToArray();
                    return new TensorToWrite(n, entry.DType, entry.Shape, () => bytes);
                }).ToArray());
            }

            await using var mesh = await MeshCluster.StartAsync(source, expertSilos: 1,
                modelOf: name => name == MeshCluster.FrontendName ? source : stripped);

            var config = ModelConfig.Load(source);
            var x = randn(5, config.HiddenSize, generator: new TorchSharp.torch.Generator(42));
            var rows = RowCodec.ToRows(x, RowDtype.F32);
            var y = RowCodec.ToTensor(await mesh.FrontendGrains.GetExpertGrain(layer, expert).Forward(rows));

            var full = Checkpoint.Open(source).WithBlockSize(config.WeightBlockSize!);
            using var local = LocalExpertExecutor.LoadExpert(new LoadContext(full, config, new Model.ModelOptions()), layer, expert);
            Runs.AssertClose(Model.Inference.TensorData.ToArray<float>(local.Forward(x)), Model.Inference.TensorData.ToArray<float>(y), 0, "expert output");

            var info = await mesh.FrontendGrains.GetExpertGrain(layer, expert).Describe();
            Assert.Equal(own, info.Tensors);
            Assert.Equal(3L * config.HiddenSize * config.MoeIntermediateSize, info.Parameters);
            // FP8 stays FP8: the silo holds the checkpoint's codes and block scales (plus a 4-byte scale-row index per output row
            // and a 1-byte exact-path mark per output row and column block).
            long Blocks(long columns) => (columns + config.WeightBlockSize![1] - 1) / config.WeightBlockSize![1];
            long marks = 2L * config.MoeIntermediateSize * Blocks(config.HiddenSize) + (long)config.HiddenSize * Blocks(config.MoeIntermediateSize);
            Assert.Equal(full.StoredBytes(own) + 4L * (2 * config.MoeIntermediateSize + config.HiddenSize) + marks, info.Bytes);
            Assert.Equal(1, info.Calls);
            Assert.Equal(5, info.Rows);

            // Its neighbour's tensors are not on that silo: the grain reads from its own silo's model directory.
            var e = await Assert.ThrowsAnyAsync<Exception>(() => mesh.FrontendGrains.GetExpertGrain(layer, expert + 1).Forward(rows));
            Assert.Contains($"model.layers.{layer}.mlp.experts.{expert + 1}", e.Message);
        }
        finally
        {
            Directory.Delete(stripped, recursive: true);
        }
    }

    [Fact]
    public async Task Bf16RowsHalveTheBytesAndStayClose()
    {
        var dir = TestModels.Conformance("tiny-a");
        await using var mesh = await MeshCluster.StartAsync(dir, expertSilos: 1);
        var config = ModelConfig.Load(dir);
        var x = randn(7, config.HiddenSize, generator: new TorchSharp.torch.Generator(3));
        var grain = mesh.FrontendGrains.GetExpertGrain(2, 5);
        var f32 = await grain.Forward(RowCodec.ToRows(x, RowDtype.F32));
        var bf16 = await grain.Forward(RowCodec.ToRows(x, RowDtype.BF16));
        Assert.Equal(RowDtype.BF16, bf16.Dtype);
        Assert.Equal(f32.Data.Length / 2, bf16.Data.Length);
        var exact = f32.ToSingles();
        var approx = bf16.ToSingles();
        double scale = exact.Max(Math.Abs);
        Runs.AssertClose(exact, approx, 0.02 * scale, "bf16 expert output");
    }

    [Fact]
    public async Task BadKeysAndShapesAreRefused()
    {
        await using var mesh = await MeshCluster.StartAsync(TestModels.Conformance("tiny-a"), expertSilos: 1);
        var rows = TokenRows.FromSingles(new float[64 * 2], 2, 64);
        await Assert.ThrowsAsync<ArgumentException>(() => mesh.FrontendGrains.GetExpertGrain(0, 1).Forward(rows)); // layer 0 is dense
        await Assert.ThrowsAsync<ArgumentException>(() => mesh.FrontendGrains.GetExpertGrain(1, 8).Forward(rows)); // 8 experts: 0..7
        var wrong = TokenRows.FromSingles(new float[32 * 2], 2, 32);
        await Assert.ThrowsAsync<ArgumentException>(() => mesh.FrontendGrains.GetExpertGrain(1, 1).Forward(wrong));
    }
}
