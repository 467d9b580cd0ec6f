using System.Text;
using System.Text.Json;

namespace DeepSeekMesh.Model.Weights;

/// <summary>A tensor to write; its bytes are produced only when the writer reaches it.</summary>
public sealed record TensorToWrite(string Name, SafetensorsDType DType, long[] Shape, Func<byte[]> Bytes)
{
    public long ByteCount => Shape.Aggregate(1L, (a, b) => a * b) * DType.ElementSize();
}

/// <summary>Writes safetensors files, one or sharded with a model.safetensors.index.json, as HuggingFace lays them out.</summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IReadOnlyList<TensorToWrite> tensors)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach (var t in tensors)
        {
            header[t.Name] = new { dtype = t.DType.ToString(), shape = t.Shape, data_offsets = new[] { offset, offset + t.ByteCount } };
            offset += t.ByteCount;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = (json.Length + 7) / 8 * 8; // the data section starts 8-byte aligned
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        stream.Write(BitConverter.GetBytes((long)padded));
        stream.Write(json);
        stream.Write(Encoding.ASCII.GetBytes(new string(' ', padded - json.Length)));
        foreach (var t in tensors)
        {
            var bytes = t.Bytes();
            if (bytes.LongLength != t.ByteCount)
                throw new InvalidOperationException($"tensor '{t.Name}' produced {bytes.LongLength} bytes, its shape needs {t.ByteCount}");
            stream.Write(bytes);
        }
    }

    /// <summary>
    /// Writes <c>model.safetensors</c>, or — when the tensors exceed <paramref name="maxShardBytes"/> —
    /// <c>model-0000i-of-0000n.safetensors</c> shards and <c>model.safetensors.index.json</c>.
    /// </summary>
    public static IReadOnlyList<string> WriteModel(string directory, IReadOnlyList<TensorToWrite> tensors, long maxShardBytes = 2L << 30)
    {
        Directory.CreateDirectory(directory);
        var shards = new List<List<TensorToWrite>> { new() };
        long size = 0;
        foreach (var t in tensors)
        {
            if (size > 0 && size + t.ByteCount > maxShardBytes)
            {
                shards.Add(new());
                size = 0;
            }
            shards[^1].Add(t);
            size += t.ByteCount;
        }
        if (shards.Count == 1)
        {
            Write(Path.Combine(directory, "model.safetensors"), tensors);
            return ["model.safetensors"];
        }
        var names = shards.Select((_, i) => $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors").ToArray();
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < shards.Count; i++)
        {
            Write(Path.Combine(directory, names[i]), shards[i]);
            foreach (var t in shards[i]) weightMap[t.Name] = names[i];
        }
        var index = new { metadata = new { total_size = tensors.Sum(t => t.ByteCount) }, weight_map = weightMap };
        File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), JsonSerializer.Serialize(index, new JsonSerializerOptions { WriteIndented = true }));
        return names;
    }
}
