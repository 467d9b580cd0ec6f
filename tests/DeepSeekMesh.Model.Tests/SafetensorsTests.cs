using System.Text;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Model.Weights;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Tests;

/// <summary>Malformed files and missing or mis-shaped tensors fail with the file and tensor named.</summary>
public sealed class SafetensorsTests
{
    readonly string _dir = Scratch.NewDirectory("st-");

    string WriteRaw(string header, int dataBytes, long? declaredLength = null, string name = "model.safetensors")
    {
        var json = Encoding.UTF8.GetBytes(header);
        var path = Path.Combine(_dir, name);
        using var f = File.Create(path);
        f.Write(BitConverter.GetBytes(declaredLength ?? json.Length));
        f.Write(json);
        f.Write(new byte[dataBytes]);
        return path;
    }

    static string Message(Action a) => Assert.Throws<WeightFormatException>(a).Message;

    [Fact]
    public void HeaderLengthPastEndOfFile()
    {
        var path = WriteRaw("{}", 0, declaredLength: 1 << 20);
        Assert.Contains("header length 1048576 runs past the end of the file", Message(() => SafetensorsFile.Open(path)));
    }

    [Fact]
    public void TooShortFile()
    {
        var path = Path.Combine(_dir, "short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Contains("too short", Message(() => SafetensorsFile.Open(path)));
    }

    [Fact]
    public void HeaderIsNotJson()
    {
        var path = WriteRaw("{\"a\": [1, 2", 0);
        Assert.Contains("header is not valid JSON", Message(() => SafetensorsFile.Open(path)));
    }

    [Fact]
    public void OffsetsOutOfRange()
    {
        var path = WriteRaw("""{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8);
        var m = Message(() => SafetensorsFile.Open(path));
        Assert.Contains("tensor 'w' data_offsets [0, 16] run past the data section (8 bytes)", m);
        Assert.Contains(path, m);
    }

    [Fact]
    public void OverlappingTensors()
    {
        var path = WriteRaw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12);
        Assert.Contains("tensors 'a' and 'b' overlap", Message(() => SafetensorsFile.Open(path)));
    }

    [Fact]
    public void ShapeDisagreesWithByteCount()
    {
        var path = WriteRaw("""{"w":{"dtype":"BF16","shape":[3,3],"data_offsets":[0,16]}}""", 16);
        Assert.Contains("tensor 'w' has 16 bytes but shape [3, 3] of BF16 needs 18", Message(() => SafetensorsFile.Open(path)));
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,2]}}""", "unknown or missing dtype")]
    [InlineData("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", "bad shape")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", "bad data_offsets")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1]}}""", "bad data_offsets (missing)")]
    [InlineData("""[1,2]""", "header must be a JSON object")]
    public void MalformedEntries(string header, string expected)
    {
        var path = WriteRaw(header, 8);
        Assert.Contains(expected, Message(() => SafetensorsFile.Open(path)));
    }

    [Fact]
    public void MissingAndMisShapedTensorsAreNamed()
    {
        SafetensorsWriter.WriteModel(_dir, [Floats("w", [2, 3], 1, 2, 3, 4, 5, 6)]);
        using var checkpoint = Checkpoint.Open(_dir);
        Assert.Contains("tensor 'nope' not found", Message(() => checkpoint.Load("nope", [1])));
        var m = Message(() => checkpoint.Load("w", [3, 2]));
        Assert.Contains("model.safetensors: tensor 'w' has shape [2, 3], expected [3, 2]", m);
    }

    [Fact]
    public void RoundTripsF32AndBf16()
    {
        SafetensorsWriter.WriteModel(_dir, [Floats("a", [2, 2], 1.5f, -2f, 0.25f, 3f), Bf16("b", [3], 1f, -0.5f, 256f)]);
        using var checkpoint = Checkpoint.Open(_dir);
        using var a = checkpoint.Load("a", [2, 2]);
        using var b = checkpoint.Load("b", [3]);
        using var b16 = checkpoint.Load("b", [3], ScalarType.BFloat16);
        Assert.Equal([1.5f, -2f, 0.25f, 3f], TensorData.ToArray<float>(a));
        Assert.Equal([1f, -0.5f, 256f], TensorData.ToArray<float>(b));
        Assert.Equal(ScalarType.BFloat16, b16.dtype);
    }

    [Fact]
    public void ShardedCheckpointsReadThroughTheIndex()
    {
        var tensors = Enumerable.Range(0, 5).Select(i => Floats($"t{i}", [4], i, i, i, i)).ToArray();
        var shards = SafetensorsWriter.WriteModel(_dir, tensors, maxShardBytes: 40);
        Assert.True(shards.Count > 1);
        Assert.True(File.Exists(Path.Combine(_dir, "model.safetensors.index.json")));
        using var checkpoint = Checkpoint.Open(_dir);
        using var t3 = checkpoint.Load("t3", [4]);
        Assert.Equal([3f, 3f, 3f, 3f], TensorData.ToArray<float>(t3));
    }

    [Fact]
    public void IndexNamingAMissingShardIsRefused()
    {
        File.WriteAllText(Path.Combine(_dir, "model.safetensors.index.json"), """{"weight_map":{"w":"model-00009-of-00009.safetensors"}}""");
        Assert.Contains("names shard 'model-00009-of-00009.safetensors', which is not in", Message(() => Checkpoint.Open(_dir)));
    }

    [Fact]
    public void Fp8WeightNeedsItsBlockScales()
    {
        SafetensorsWriter.WriteModel(_dir, [new TensorToWrite("w", SafetensorsDType.F8_E4M3, [2, 2], () => [0x38, 0x40, 0xB8, 0x00])]);
        using var checkpoint = Checkpoint.Open(_dir);
        Assert.Contains("FP8 tensor 'w' has no 'w_scale_inv' block scales", Message(() => checkpoint.Load("w", [2, 2])));
    }

    [Fact]
    public void Fp8DequantizesWithPartialBlocks()
    {
        // 130 x 3 weight: two block rows (128 + a partial 2), one block column; every code 0x38 (= 1.0).
        var bytes = Enumerable.Repeat((byte)0x38, 130 * 3).ToArray();
        SafetensorsWriter.WriteModel(_dir, [
            new TensorToWrite("w", SafetensorsDType.F8_E4M3, [130, 3], () => bytes),
            Floats("w_scale_inv", [2, 1], 0.5f, 4f),
        ]);
        using var checkpoint = Checkpoint.Open(_dir);
        using var w = checkpoint.Load("w", [130, 3]);
        var values = TensorData.ToArray<float>(w);
        Assert.All(values[..(128 * 3)], v => Assert.Equal(0.5f, v));
        Assert.All(values[(128 * 3)..], v => Assert.Equal(4f, v));
    }

    [Fact]
    public void Fp8E4M3CodesDecodeAndEncode()
    {
        Assert.Equal(1f, ElementDecoder.Fp8E4M3[0x38]);
        Assert.Equal(448f, ElementDecoder.Fp8E4M3[0x7E]);
        Assert.Equal(-448f, ElementDecoder.Fp8E4M3[0xFE]);
        Assert.Equal(MathF.Pow(2, -9), ElementDecoder.Fp8E4M3[0x01]);
        Assert.True(float.IsNaN(ElementDecoder.Fp8E4M3[0x7F]));
        for (int code = 0; code < 0x7F; code++)
            Assert.Equal(code, ElementDecoder.FloatToFp8E4M3(ElementDecoder.Fp8E4M3[code]));
        Assert.Equal(0x7E, ElementDecoder.FloatToFp8E4M3(1e6f)); // saturates
    }

    static TensorToWrite Floats(string name, long[] shape, params float[] values) =>
        new(name, SafetensorsDType.F32, shape, () => values.SelectMany(BitConverter.GetBytes).ToArray());

    static TensorToWrite Bf16(string name, long[] shape, params float[] values) =>
        new(name, SafetensorsDType.BF16, shape, () => values.SelectMany(v => BitConverter.GetBytes(ElementDecoder.FloatToBf16(v))).ToArray());
}
