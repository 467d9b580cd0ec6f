using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace DeepSeekMesh.Model.Weights;

/// <summary>
/// A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header
/// (name → dtype, shape, data_offsets), then the data. The header is validated completely at open;
/// tensor bytes are only touched when asked for.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    const long MaxHeaderBytes = 100L << 20; // the format's own limit

    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _base;
    readonly long _dataStart;

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorEntry> Tensors { get; }

    SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long dataStart, IReadOnlyDictionary<string, TensorEntry> tensors)
    {
        Path = path;
        _map = map;
        _view = view;
        _dataStart = dataStart;
        Tensors = tensors;
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _base = p + _view.PointerOffset;
    }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new WeightFormatException($"{path}: file not found");
        long length = new FileInfo(path).Length;
        if (length < 8) throw new WeightFormatException($"{path}: {length} bytes is too short for a safetensors file (no 8-byte header length)");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            var view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            try
            {
                long headerLength = view.ReadInt64(0);
                if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > length)
                    throw new WeightFormatException($"{path}: header length {headerLength} runs past the end of the file ({length} bytes)");
                var header = new byte[headerLength];
                view.ReadArray(8, header, 0, header.Length);
                var tensors = ParseHeader(path, header, length - 8 - headerLength);
                return new SafetensorsFile(path, map, view, 8 + headerLength, tensors);
            }
            catch
            {
                view.Dispose();
                throw;
            }
        }
        catch
        {
            map.Dispose();
            throw;
        }
    }

    /// <summary>The raw bytes of a tensor, straight from the mapping (valid until this file is disposed).</summary>
    public ReadOnlySpan<byte> Bytes(TensorEntry entry)
    {
        if (entry.ByteCount > int.MaxValue)
            throw new WeightFormatException($"{Path}: tensor '{entry.Name}' is {entry.ByteCount} bytes; read it in slices");
        return new ReadOnlySpan<byte>(_base + _dataStart + entry.Begin, (int)entry.ByteCount);
    }

    static Dictionary<string, TensorEntry> ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(header); }
        catch (JsonException e) { throw new WeightFormatException($"{path}: header is not valid JSON: {e.Message}"); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new WeightFormatException($"{path}: header must be a JSON object");

        var tensors = new Dictionary<string, TensorEntry>(StringComparer.Ordinal);
        foreach (var property in doc.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__") continue;
            var entry = ParseEntry(path, property.Name, property.Value);
            if (entry.End > dataLength)
                throw new WeightFormatException($"{path}: tensor '{entry.Name}' data_offsets [{entry.Begin}, {entry.End}] run past the data section ({dataLength} bytes)");
            long expected = entry.ElementCount * entry.DType.ElementSize();
            if (entry.ByteCount != expected)
                throw new WeightFormatException($"{path}: tensor '{entry.Name}' has {entry.ByteCount} bytes but shape {entry.ShapeText} of {entry.DType} needs {expected}");
            tensors[entry.Name] = entry;
        }

        TensorEntry? previous = null;
        foreach (var entry in tensors.Values.Where(t => t.ByteCount > 0).OrderBy(t => t.Begin))
        {
            if (previous is not null && entry.Begin < previous.End)
                throw new WeightFormatException($"{path}: tensors '{previous.Name}' and '{entry.Name}' overlap (bytes [{previous.Begin}, {previous.End}) and [{entry.Begin}, {entry.End}))");
            previous = entry;
        }
        return tensors;
    }

    static TensorEntry ParseEntry(string path, string name, JsonElement e)
    {
        WeightFormatException Bad(string why) => new($"{path}: tensor '{name}': {why}");
        if (e.ValueKind != JsonValueKind.Object) throw Bad("header entry must be an object");
        if (!e.TryGetProperty("dtype", out var dtypeJson) || dtypeJson.ValueKind != JsonValueKind.String
            || !Enum.TryParse<SafetensorsDType>(dtypeJson.GetString(), ignoreCase: false, out var dtype))
            throw Bad($"unknown or missing dtype {(e.TryGetProperty("dtype", out var d) ? d.GetRawText() : "")}");
        if (!e.TryGetProperty("shape", out var shapeJson) || shapeJson.ValueKind != JsonValueKind.Array)
            throw Bad("missing shape");
        var shape = new long[shapeJson.GetArrayLength()];
        int i = 0;
        foreach (var dim in shapeJson.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out shape[i]) || shape[i] < 0)
                throw Bad($"bad shape {shapeJson.GetRawText()}");
            i++;
        }
        if (!e.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < begin)
            throw Bad($"bad data_offsets {(e.TryGetProperty("data_offsets", out var o) ? o.GetRawText() : "(missing)")}");
        if (shape.Any(s => s > 0) && shape.Aggregate(1.0, (a, b) => a * b) > long.MaxValue / 8)
            throw Bad($"shape {shapeJson.GetRawText()} is too large");
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
