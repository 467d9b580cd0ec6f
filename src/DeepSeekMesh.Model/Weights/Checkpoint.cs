using System.Runtime.InteropServices;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Weights;

/// <summary>
/// A HuggingFace model directory's weights: one safetensors file or shards listed in
/// model.safetensors.index.json. Shards are opened (header only, memory-mapped) on first use, and
/// only the tensors asked for are read. FP8 E4M3 weights are dequantized with their
/// <c>*_scale_inv</c> block scales on load.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    const string IndexFile = "model.safetensors.index.json";

    readonly Dictionary<string, string> _fileOf;          // tensor name → shard file name
    readonly Dictionary<string, SafetensorsFile> _open = new();
    readonly Lock _lock = new();

    public string Directory { get; }
    /// <summary>FP8 scale block [rows, cols]; DeepSeek-V3 uses [128, 128].</summary>
    public int[] BlockSize { get; private set; } = [128, 128];

    /// <summary>Sets the FP8 scale block size from the config's quantization_config.weight_block_size.</summary>
    public Checkpoint WithBlockSize(int[] blockSize)
    {
        BlockSize = blockSize;
        return this;
    }
    public IReadOnlyCollection<string> TensorNames => _fileOf.Keys;

    Checkpoint(string directory, Dictionary<string, string> fileOf)
    {
        Directory = directory;
        _fileOf = fileOf;
    }

    public static Checkpoint Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) throw new WeightFormatException($"{directory}: model directory not found");
        var index = System.IO.Path.Combine(directory, IndexFile);
        if (System.IO.File.Exists(index)) return new Checkpoint(directory, ReadIndex(index, directory));

        var files = System.IO.Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToArray();
        if (files.Length == 0) throw new WeightFormatException($"{directory}: no *.safetensors files and no {IndexFile}");
        var checkpoint = new Checkpoint(directory, new Dictionary<string, string>(StringComparer.Ordinal));
        foreach (var file in files)
        {
            var name = System.IO.Path.GetFileName(file);
            foreach (var tensor in checkpoint.Shard(name).Tensors.Keys)
                if (!checkpoint._fileOf.TryAdd(tensor, name))
                    throw new WeightFormatException($"{directory}: tensor '{tensor}' appears in both {checkpoint._fileOf[tensor]} and {name}");
        }
        return checkpoint;
    }

    static Dictionary<string, string> ReadIndex(string index, string directory)
    {
        try
        {
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(index));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new WeightFormatException($"{index}: missing \"weight_map\" object");
            var fileOf = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in map.EnumerateObject())
            {
                var file = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new WeightFormatException($"{index}: weight_map['{p.Name}'] must be a file name");
                if (file.Contains('/') || file.Contains('\\') || !System.IO.File.Exists(System.IO.Path.Combine(directory, file)))
                    throw new WeightFormatException($"{index}: weight_map['{p.Name}'] names shard '{file}', which is not in {directory}");
                fileOf[p.Name] = file;
            }
            return fileOf;
        }
        catch (JsonException e)
        {
            throw new WeightFormatException($"{index}: invalid JSON: {e.Message}");
        }
    }

    SafetensorsFile Shard(string fileName)
    {
        lock (_lock)
        {
            if (!_open.TryGetValue(fileName, out var file))
                _open[fileName] = file = SafetensorsFile.Open(System.IO.Path.Combine(Directory, fileName));
            return file;
        }
    }

    public bool Contains(string name) => _fileOf.ContainsKey(name);

    /// <summary>The header entry of a tensor and the file that holds it.</summary>
    public (SafetensorsFile File, TensorEntry Entry) Find(string name)
    {
        if (!_fileOf.TryGetValue(name, out var fileName))
            throw new WeightFormatException($"{Directory}: tensor '{name}' not found in the checkpoint");
        var file = Shard(fileName);
        if (!file.Tensors.TryGetValue(name, out var entry))
            throw new WeightFormatException($"{file.Path}: tensor '{name}' is listed in {IndexFile} but not in this shard");
        return (file, entry);
    }

    /// <summary>Loads a weight as <paramref name="dtype"/> (F32 or BF16) after checking its shape.</summary>
    public Tensor Load(string name, long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        var (file, entry) = Find(name);
        if (!entry.Shape.SequenceEqual(shape))
            throw new WeightFormatException($"{file.Path}: tensor '{name}' has shape {entry.ShapeText}, expected [{string.Join(", ", shape)}]");
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
            throw new ArgumentException($"weights load as Float32 or BFloat16, not {dtype}", nameof(dtype));

        var result = empty(shape, dtype);
        var bytes = file.Bytes(entry);
        if (dtype == ScalarType.BFloat16 && entry.DType == SafetensorsDType.BF16)
        {
            bytes.CopyTo(result.bytes);
        }
        else
        {
            var floats = dtype == ScalarType.Float32 ? result : empty(shape, ScalarType.Float32);
            var destination = MemoryMarshal.Cast<byte, float>(floats.bytes);
            if (entry.DType == SafetensorsDType.F8_E4M3) Dequantize(file, entry, bytes, destination);
            else if (entry.DType is SafetensorsDType.F32 or SafetensorsDType.BF16 or SafetensorsDType.F16) ElementDecoder.ToFloat(entry.DType, bytes, destination);
            else throw new WeightFormatException($"{file.Path}: tensor '{name}' has dtype {entry.DType}; weights must be F32, F16, BF16 or F8_E4M3");
            if (!ReferenceEquals(floats, result))
            {
                result.Dispose();
                result = floats.to(dtype);
                floats.Dispose();
            }
        }
        if (device is not null && device.type != DeviceType.CPU)
        {
            var moved = result.to(device);
            result.Dispose();
            result = moved;
        }
        return result;
    }

    void Dequantize(SafetensorsFile file, TensorEntry entry, ReadOnlySpan<byte> bytes, Span<float> destination)
    {
        if (entry.Shape.Length != 2)
            throw new WeightFormatException($"{file.Path}: FP8 tensor '{entry.Name}' must be 2-D, has shape {entry.ShapeText}");
        int rows = (int)entry.Shape[0], cols = (int)entry.Shape[1];
        int br = BlockSize[0], bc = BlockSize[1];
        var scaleName = entry.Name + "_scale_inv";
        if (!Contains(scaleName))
            throw new WeightFormatException($"{file.Path}: FP8 tensor '{entry.Name}' has no '{scaleName}' block scales");
        var (scaleFile, scaleEntry) = Find(scaleName);
        long[] expected = [(rows + br - 1) / br, (cols + bc - 1) / bc];
        if (scaleEntry.DType != SafetensorsDType.F32 || !scaleEntry.Shape.SequenceEqual(expected))
            throw new WeightFormatException($"{scaleFile.Path}: tensor '{scaleName}' is {scaleEntry.DType} {scaleEntry.ShapeText}, expected F32 [{expected[0]}, {expected[1]}] ({br}x{bc} blocks)");
        var scales = MemoryMarshal.Cast<byte, float>(scaleFile.Bytes(scaleEntry));
        ElementDecoder.DequantizeFp8(bytes, scales, rows, cols, br, bc, destination);
    }

    /// <summary>Total stored bytes of the named tensors (and their FP8 scales).</summary>
    public long StoredBytes(IEnumerable<string> names) =>
        names.Sum(n => Find(n).Entry.ByteCount + (Contains(n + "_scale_inv") ? Find(n + "_scale_inv").Entry.ByteCount : 0));

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var file in _open.Values) file.Dispose();
            _open.Clear();
        }
    }
}
