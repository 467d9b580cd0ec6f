using System.Text.Json;
using DeepSeekMesh.Model.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Weights;

/// <summary>
/// A HuggingFace model directory's weights: one safetensors file or shards listed in
/// model.safetensors.index.json. Shards are opened (header only) on first use, and
/// only the tensors asked for are read, straight into the tensors that hold them. FP8 E4M3 weights
/// load as codes with their <c>*_scale_inv</c> block scales (<see cref="LoadFp8"/>), or dequantized
/// when asked for as F32 or BF16.
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

    /// <summary>The tensor's entry after checking its shape.</summary>
    (SafetensorsFile File, TensorEntry Entry) Find(string name, long[] shape)
    {
        var (file, entry) = Find(name);
        if (!entry.Shape.SequenceEqual(shape))
            throw new WeightFormatException($"{file.Path}: tensor '{name}' has shape {entry.ShapeText}, expected [{string.Join(", ", shape)}]");
        return (file, entry);
    }

    /// <summary>
    /// True when every matrix stored densely (not F8 E4M3, not a block-scale grid) is BF16, as in
    /// DeepSeek's releases. Held as bf16 such weights lose nothing: the CPU kernels widen each one
    /// exactly inside the product (<see cref="Layers.DenseGemv"/>), so the numbers are f32's.
    /// </summary>
    public bool DenseMatricesAreBf16() => TensorNames.Select(n => Find(n).Entry)
        .Where(e => e.Shape.Length == 2 && e.DType != SafetensorsDType.F8_E4M3 && !e.Name.EndsWith("_scale_inv", StringComparison.Ordinal))
        .All(e => e.DType == SafetensorsDType.BF16);

    /// <summary>True when the tensor is stored as F8 E4M3 (with block scales).</summary>
    public bool IsFp8(string name) => Find(name).Entry.DType == SafetensorsDType.F8_E4M3;

    /// <summary>Loads a weight as <paramref name="dtype"/> (F32 or BF16) after checking its shape.</summary>
    public Tensor Load(string name, long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
            throw new ArgumentException($"weights load as Float32 or BFloat16, not {dtype}", nameof(dtype));
        var result = empty(shape, dtype);
        try
        {
            ReadInto(name, shape, result);
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return ToDevice(result, device);
    }

    /// <summary>
    /// Loads weights stacked along their first dimension [Σ rows, cols...] into one tensor, each read
    /// straight into its slice (no per-part copies and concatenation).
    /// </summary>
    public Tensor LoadStacked(IReadOnlyList<(string Name, long[] Shape)> parts, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16))
            throw new ArgumentException($"weights load as Float32 or BFloat16, not {dtype}", nameof(dtype));
        long[] shape = [.. parts[0].Shape];
        shape[0] = parts.Sum(p => p.Shape[0]);
        var result = empty(shape, dtype);
        try
        {
            long row = 0;
            foreach (var (name, partShape) in parts)
            {
                using var slice = result.narrow(0, row, partShape[0]);
                ReadInto(name, partShape, slice);
                row += partShape[0];
            }
        }
        catch
        {
            result.Dispose();
            throw;
        }
        return ToDevice(result, device);
    }

    /// <summary>
    /// FP8 E4M3 weights [out_i, in] kept as codes, stacked along the output dimension, with their
    /// block scales: the checkpoint's bytes, read as they are.
    /// </summary>
    public unsafe (Tensor Codes, Tensor Scales, Tensor ScaleRow) LoadFp8(IReadOnlyList<(string Name, long OutFeatures)> parts, long inFeatures, Device? device = null)
    {
        int br = BlockSize[0], bc = BlockSize[1];
        long scaleCols = (inFeatures + bc - 1) / bc;
        long rows = parts.Sum(p => p.OutFeatures), scaleRows = parts.Sum(p => (p.OutFeatures + br - 1) / br);
        var codes = empty([rows, inFeatures], ScalarType.Byte);
        var scales = empty([scaleRows, scaleCols], ScalarType.Float32);
        var scaleRow = new int[rows];
        try
        {
            long row = 0, scaleRowAt = 0;
            foreach (var (name, outFeatures) in parts)
            {
                var (file, entry) = Find(name, [outFeatures, inFeatures]);
                if (entry.DType != SafetensorsDType.F8_E4M3)
                    throw new WeightFormatException($"{file.Path}: tensor '{name}' is {entry.DType}, not F8_E4M3");
                var (scaleFile, scaleEntry) = Scales(file, entry);
                file.Read(entry, 0, entry.ByteCount, TensorData.Pointer(codes) + row * inFeatures);
                scaleFile.Read(scaleEntry, 0, scaleEntry.ByteCount, TensorData.Pointer(scales) + scaleRowAt * scaleCols * 4);
                for (long r = 0; r < outFeatures; r++) scaleRow[row + r] = (int)(scaleRowAt + r / br);
                row += outFeatures;
                scaleRowAt += scaleEntry.Shape[0];
            }
        }
        catch
        {
            codes.Dispose();
            scales.Dispose();
            throw;
        }
        return (ToDevice(codes, device), ToDevice(scales, device), ToDevice(tensor(scaleRow), device));
    }

    static Tensor ToDevice(Tensor t, Device? device)
    {
        if (device is null || device.type == DeviceType.CPU) return t;
        using (t) return t.to(device);
    }

    /// <summary>Bytes converted per step when the stored dtype differs from the destination's (bounds the staging memory).</summary>
    const long ChunkElements = 16L << 20;

    /// <summary>Reads a stored tensor into <paramref name="destination"/> (CPU, contiguous, F32 or BF16): a plain read when the dtypes match, else in chunks converted by libtorch (FP8: dequantized by the AVX2 kernel).</summary>
    unsafe void ReadInto(string name, long[] shape, Tensor destination)
    {
        var (file, entry) = Find(name, shape);
        var target = destination.dtype;
        if (!destination.is_contiguous() || destination.device_type != DeviceType.CPU)
            throw new ArgumentException("weights are read into contiguous CPU tensors", nameof(destination));
        var source = entry.DType switch
        {
            SafetensorsDType.F32 => ScalarType.Float32,
            SafetensorsDType.BF16 => ScalarType.BFloat16,
            SafetensorsDType.F16 => ScalarType.Float16,
            SafetensorsDType.F8_E4M3 => ScalarType.Byte,
            _ => throw new WeightFormatException($"{file.Path}: tensor '{name}' has dtype {entry.DType}; weights must be F32, F16, BF16 or F8_E4M3"),
        };
        if (source == target)
        {
            file.Read(entry, 0, entry.ByteCount, TensorData.Pointer(destination));
            return;
        }
        if (entry.DType == SafetensorsDType.F8_E4M3)
        {
            DequantizeInto(file, entry, destination);
            return;
        }
        if (entry.DType == SafetensorsDType.BF16 && target == ScalarType.Float32 && Bf16Conversion.Supported)
        {
            WidenInto(file, entry, (float*)TensorData.Pointer(destination));
            return;
        }
        using var flat = destination.view(-1);
        long count = entry.ElementCount, size = entry.DType.ElementSize();
        using var staging = empty([Math.Min(count, ChunkElements)], source);
        for (long first = 0; first < count; first += ChunkElements)
        {
            long n = Math.Min(ChunkElements, count - first);
            using var part = staging.narrow(0, 0, n);
            file.Read(entry, first * size, n * size, TensorData.Pointer(part));
            using var slice = flat.narrow(0, first, n);
            slice.copy_(part);
        }
    }

    /// <summary>BF16 → F32 (the most common conversion: bf16 checkpoints, f32 weights): chunks read into a staging buffer, widened in parallel by shifting into the high half.</summary>
    static unsafe void WidenInto(SafetensorsFile file, TensorEntry entry, float* destination)
    {
        long count = entry.ElementCount;
        long chunk = Math.Min(count, ChunkElements);
        var staging = (ushort*)System.Runtime.InteropServices.NativeMemory.Alloc((nuint)(chunk * 2));
        try
        {
            for (long first = 0; first < count; first += chunk)
            {
                long n = Math.Min(chunk, count - first);
                file.Read(entry, first * 2, n * 2, (byte*)staging);
                Bf16Conversion.Widen(staging, destination + first, n);
            }
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.Free(staging);
        }
    }

    (SafetensorsFile File, TensorEntry Entry) Scales(SafetensorsFile file, TensorEntry entry)
    {
        if (entry.Shape.Length != 2)
            throw new WeightFormatException($"{file.Path}: FP8 tensor '{entry.Name}' must be 2-D, has shape {entry.ShapeText}");
        long rows = entry.Shape[0], cols = entry.Shape[1];
        int br = BlockSize[0], bc = BlockSize[1];
        var scaleName = entry.Name + "_scale_inv";
        if (!Contains(scaleName))
            throw new WeightFormatException($"{file.Path}: FP8 tensor '{entry.Name}' has no '{scaleName}' block scales");
        var (scaleFile, scaleEntry) = Find(scaleName);
        long[] expected = [(rows + br - 1) / br, (cols + bc - 1) / bc];
        if (scaleEntry.DType != SafetensorsDType.F32 || !scaleEntry.Shape.SequenceEqual(expected))
            throw new WeightFormatException($"{scaleFile.Path}: tensor '{scaleName}' is {scaleEntry.DType} {scaleEntry.ShapeText}, expected F32 [{expected[0]}, {expected[1]}] ({br}x{bc} blocks)");
        return (scaleFile, scaleEntry);
    }

    /// <summary>FP8 codes × block scales into an F32 or BF16 destination.</summary>
    void DequantizeInto(SafetensorsFile file, TensorEntry entry, Tensor destination)
    {
        Scales(file, entry); // validates
        var (codes, scales, scaleRow) = LoadFp8([(entry.Name, entry.Shape[0])], entry.Shape[1]);
        using var weight = new Layers.Fp8Weight(codes, scales, scaleRow, BlockSize[1]);
        if (Layers.Fp8Gemv.Supported)
        {
            weight.DequantizeInto(destination);
            return;
        }
        using var dense = weight.DequantizeWithTensorOps(destination.dtype);
        destination.copy_(dense);
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
