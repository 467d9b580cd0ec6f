using System.Text.Json;
using Microsoft.Win32.SafeHandles;

namespace DeepSeekMesh.Model.Weights;

/// <summary>
/// A safetensors file: an 8-byte little-endian header length, a JSON header (name → dtype, shape,
/// data_offsets), then the data. The header is validated completely at open; tensor bytes are read
/// (positional reads from the page cache, in parallel pieces, straight into the caller's memory)
/// only when asked for. Reads rather than a memory mapping: mapped pages count in the process's
/// resident set until unmapped, which would add the whole file to the peak of a load.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    const long MaxHeaderBytes = 100L << 20; // the format's own limit
    /// <summary>Bytes one read covers; pieces of a large tensor are read by several threads.</summary>
    const long PieceBytes = 16L << 20;

    readonly SafeFileHandle _handle;
    readonly long _dataStart;

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorEntry> Tensors { get; }

    SafetensorsFile(string path, SafeFileHandle handle, long dataStart, IReadOnlyDictionary<string, TensorEntry> tensors)
    {
        Path = path;
        _handle = handle;
        _dataStart = dataStart;
        Tensors = tensors;
    }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new WeightFormatException($"{path}: file not found");
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            long length = RandomAccess.GetLength(handle);
            if (length < 8) throw new WeightFormatException($"{path}: {length} bytes is too short for a safetensors file (no 8-byte header length)");
            Span<byte> prefix = stackalloc byte[8];
            RandomAccess.Read(handle, prefix, 0);
            long headerLength = BitConverter.ToInt64(prefix);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > length)
                throw new WeightFormatException($"{path}: header length {headerLength} runs past the end of the file ({length} bytes)");
            var header = new byte[headerLength];
            if (RandomAccess.Read(handle, header, 8) != header.Length)
                throw new WeightFormatException($"{path}: the header ends early");
            var tensors = ParseHeader(path, header, length - 8 - headerLength);
            return new SafetensorsFile(path, handle, 8 + headerLength, tensors);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Copies <paramref name="count"/> bytes of a tensor, from byte <paramref name="offset"/> of it, to <paramref name="destination"/> (any size: no 2 GB span limit).</summary>
    public void Read(TensorEntry entry, long offset, long count, byte* destination)
    {
        if (offset < 0 || count < 0 || offset + count > entry.ByteCount)
            throw new ArgumentOutOfRangeException(nameof(count), $"bytes [{offset}, {offset + count}) of tensor '{entry.Name}' ({entry.ByteCount} bytes)");
        long start = _dataStart + entry.Begin + offset;
        int pieces = (int)((count + PieceBytes - 1) / PieceBytes);
        if (pieces <= 1) ReadPiece(start, count, destination);
        else Parallel.For(0, pieces, p =>
        {
            long first = p * PieceBytes;
            ReadPiece(start + first, Math.Min(PieceBytes, count - first), destination + first);
        });
    }

    /// <summary>A copy of a tensor's bytes (for small tensors: tools and tests that rewrite checkpoints).</summary>
    public byte[] Bytes(TensorEntry entry)
    {
        var bytes = new byte[entry.ByteCount];
        fixed (byte* p = bytes) Read(entry, 0, bytes.LongLength, p);
        return bytes;
    }

    void ReadPiece(long position, long count, byte* destination)
    {
        while (count > 0)
        {
            int read = RandomAccess.Read(_handle, new Span<byte>(destination, (int)count), position);
            if (read <= 0) throw new WeightFormatException($"{Path}: the file ended while reading at byte {position}");
            position += read;
            destination += read;
            count -= read;
        }
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

    public void Dispose() => _handle.Dispose();
}
