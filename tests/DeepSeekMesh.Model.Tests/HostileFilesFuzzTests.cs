using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using DeepSeekMesh.Model.Config;
using DeepSeekMesh.Model.Presets;
using DeepSeekMesh.Model.Weights;
using static TorchSharp.torch;

namespace DeepSeekMesh.Model.Tests;

/// <summary>
/// 1,000 mutated safetensors headers and 1,000 mutated config.json files: each either loads or fails
/// with the library's own exception naming the file and what is wrong — never another exception,
/// never a hang, never an allocation sized by a hostile shape (the process would die of it).
/// </summary>
public sealed class HostileFilesFuzzTests : IDisposable
{
    readonly string _dir = Scratch.NewDirectory("fuzz-");

    static readonly string[] Dtypes = ["F32", "F16", "BF16", "F8_E4M3", "I64", "U8", "F64", "", "f32", "BOOL"];
    static readonly long[] HostileNumbers = [0, 1, -1, 3, 4095, 1L << 31, (1L << 31) - 1, 1L << 32, 1L << 40, long.MaxValue, long.MinValue, 1L << 62];

    /// <summary>A header of three small tensors with one mutation applied.</summary>
    static string MutatedHeader(Random random, out int dataBytes)
    {
        var tensors = new JsonObject();
        long offset = 0;
        foreach (var (name, shape) in new[] { ("a.weight", new long[] { 4, 8 }), ("b.weight", new long[] { 8 }), ("c.weight_scale_inv", new long[] { 1, 1 }) })
        {
            long bytes = shape.Aggregate(1L, (x, y) => x * y) * 4;
            tensors[name] = new JsonObject
            {
                ["dtype"] = "F32",
                ["shape"] = new JsonArray(shape.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        dataBytes = (int)offset;
        var victim = (JsonObject)tensors[random.Next(3)]!;
        switch (random.Next(9))
        {
            case 0: victim["dtype"] = Dtypes[random.Next(Dtypes.Length)]; break;
            case 1: ((JsonArray)victim["shape"]!)[0] = HostileNumbers[random.Next(HostileNumbers.Length)]; break;
            case 2: victim["shape"] = new JsonArray(Enumerable.Range(0, random.Next(0, 9)).Select(_ => (JsonNode)JsonValue.Create(HostileNumbers[random.Next(HostileNumbers.Length)])!).ToArray()); break;
            case 3: ((JsonArray)victim["data_offsets"]!)[random.Next(2)] = HostileNumbers[random.Next(HostileNumbers.Length)]; break;
            case 4: victim["data_offsets"] = random.Next(3) switch { 0 => new JsonArray(1), 1 => "0,16", _ => new JsonArray(16, 0) }; break;
            case 5: victim.Remove(new[] { "dtype", "shape", "data_offsets" }[random.Next(3)]); break;
            case 6: victim["shape"] = random.Next(2) == 0 ? "big" : new JsonArray(1.5, -2); break;
            case 7: tensors["__metadata__"] = random.Next(2) == 0 ? new JsonObject { ["format"] = "pt" } : new JsonArray(1, 2); break;
            default: tensors[new string('x', random.Next(1, 3000))] = 7; break;
        }
        var json = tensors.ToJsonString();
        if (random.Next(4) == 0)
        {
            // raw byte damage on top: flip, truncate or insert
            var chars = json.ToCharArray();
            chars[random.Next(chars.Length)] = (char)random.Next(32, 127);
            json = random.Next(3) == 0 ? new string(chars)[..random.Next(1, chars.Length)] : new string(chars);
        }
        return json;
    }

    [Fact]
    public void AThousandMutatedSafetensorsHeaders()
    {
        var random = new Random(20261130);
        var path = Path.Combine(_dir, "model.safetensors");
        int loaded = 0, refused = 0;
        for (int i = 0; i < 1000; i++)
        {
            var header = Encoding.UTF8.GetBytes(MutatedHeader(random, out int dataBytes));
            long declared = random.Next(20) == 0 ? HostileNumbers[random.Next(HostileNumbers.Length)] : header.Length;
            using (var f = File.Create(path))
            {
                f.Write(BitConverter.GetBytes(declared));
                f.Write(header);
                f.Write(new byte[random.Next(10) == 0 ? random.Next(dataBytes) : dataBytes]);
            }
            var clock = Stopwatch.StartNew();
            try
            {
                using var file = SafetensorsFile.Open(path);
                foreach (var entry in file.Tensors.Values)
                {
                    // Read every tensor as the loader does: the declared shape is all it knows.
                    using var scope = NewDisposeScope();
                    var bytes = new byte[entry.ByteCount];
                    unsafe
                    {
                        fixed (byte* p = bytes) file.Read(entry, 0, entry.ByteCount, p);
                    }
                }
                loaded++;
            }
            catch (WeightFormatException e)
            {
                Assert.Contains(path, e.Message);
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\nheader: {Encoding.UTF8.GetString(header)}");
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"case {i} took {clock.Elapsed}: {Encoding.UTF8.GetString(header)[..Math.Min(300, header.Length)]} declared {declared}");
        }
        Assert.True(refused > 500, $"{refused} refused, {loaded} loaded");
    }

    [Fact]
    public void AThousandMutatedConfigFiles()
    {
        var random = new Random(7);
        var valid = ModelPreset.Config("tiny");
        var fields = valid.Select(p => p.Key).ToArray();
        JsonNode?[] values = [null, -1, 0, 1, 1L << 40, long.MaxValue, 1.5, "x", true, new JsonArray(1), new JsonObject(), 1e308, -1e308];
        var path = Path.Combine(_dir, "config.json");
        int refused = 0;
        for (int i = 0; i < 1000; i++)
        {
            var config = (JsonObject)valid.DeepClone();
            for (int m = random.Next(1, 4); m > 0; m--)
            {
                var field = fields[random.Next(fields.Length)];
                if (random.Next(5) == 0) config.Remove(field);
                else config[field] = values[random.Next(values.Length)]?.DeepClone();
            }
            var text = config.ToJsonString();
            if (random.Next(10) == 0) text = text[..random.Next(text.Length)];
            File.WriteAllText(path, text);
            var clock = Stopwatch.StartNew();
            try
            {
                _ = ModelConfig.Load(_dir);
            }
            catch (ModelConfigException e)
            {
                Assert.Contains("config.json", e.Message);
                refused++;
            }
            catch (Exception e)
            {
                Assert.Fail($"case {i}: {e.GetType().Name}: {e.Message}\nconfig: {text}");
            }
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"case {i} took {clock.Elapsed}");
        }
        Assert.True(refused > 300, $"only {refused} of 1000 mutated configs were refused");
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
