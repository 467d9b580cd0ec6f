using DeepSeekMesh.Model.Presets;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DeepSeekMesh.Silo.Tests;

/// <summary>The models the mesh is tested on: the conformance checkpoints and a random "tiny" preset model.</summary>
public static class TestModels
{
    public static string Root => RepoPaths.Root;

    public static string Conformance(string name) => Path.Combine(RepoPaths.Conformance, name);

    static readonly Lazy<string> TinyPreset = new(() =>
    {
        var dir = Scratch.Named("silo-tests-tiny");
        if (!File.Exists(Path.Combine(dir, "config.json")))
            ModelPreset.WriteDemo(dir, "tiny", seed: 7);
        return dir;
    });

    static readonly Lazy<string> TinyWithTokenizerPreset = new(() =>
    {
        var dir = Scratch.Named("silo-tests-tiny-tokenizer");
        if (!File.Exists(Path.Combine(dir, "config.json")))
            ModelPreset.WriteDemo(dir, "tiny", seed: 7, RepoPaths.TokenizerDirectory);
        return dir;
    });

    /// <summary>The tiny preset with DeepSeek-V3's real tokenizer (its vocabulary size): a model `dsmesh gateway` can serve.</summary>
    public static string TinyWithTokenizer => TinyWithTokenizerPreset.Value;

    static readonly Lazy<string> V3TopologyPreset = new(() =>
    {
        var dir = Scratch.Named("silo-tests-v3");
        if (!File.Exists(Path.Combine(dir, "config.json")))
            ModelPreset.WriteDemo(dir, "v3-topology", seed: 5);
        return dir;
    });

    static readonly Lazy<string> SkewedTinyPreset = new(() =>
    {
        var dir = Scratch.Named("silo-tests-skewed");
        if (File.Exists(Path.Combine(dir, "config.json"))) return dir;
        RandomCheckpoint.Write(ModelPreset.Config("tiny"), dir, seed: 7, CheckpointDtype.Bf16);
        // The gate's selection bias makes experts 2 and 5 (groups 0 and 1) win every token of every MoE layer.
        var patches = new List<(string File, long Offset, int Experts)>();
        using (var checkpoint = DeepSeekMesh.Model.Weights.Checkpoint.Open(dir))
            foreach (var name in checkpoint.TensorNames.Where(n => n.EndsWith(".mlp.gate.e_score_correction_bias", StringComparison.Ordinal)))
            {
                var (file, entry) = checkpoint.Find(name);
                long header = BitConverter.ToInt64(File.ReadAllBytes(file.Path).AsSpan(0, 8));
                patches.Add((file.Path, 8 + header + entry.Begin, (int)entry.ElementCount));
            }
        foreach (var (file, offset, experts) in patches)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
            stream.Position = offset;
            for (int e = 0; e < experts; e++) stream.Write(BitConverter.GetBytes(e is 2 or 5 ? 10f : 0f));
        }
        return dir;
    });

    /// <summary>The tiny preset with a gate bias that makes experts 2 and 5 of every MoE layer hot (chosen for every token).</summary>
    public static string SkewedTiny => SkewedTinyPreset.Value;

    /// <summary>DeepSeek-V3's real layer and expert counts (61 layers, 58 MoE × 256 experts) at tiny widths.</summary>
    public static string V3Topology => V3TopologyPreset.Value;

    /// <summary>A random-weight "tiny" preset model (4 layers, 16 experts, top-4), written once per test run.</summary>
    public static string Tiny => TinyPreset.Value;

    /// <summary>Names accepted by <see cref="Directory"/>: the three conformance checkpoints and the preset.</summary>
    public static TheoryData<string> All => new() { "tiny-a", "tiny-b", "tiny-c", "preset-tiny" };

    public static string Directory(string name) => name == "preset-tiny" ? Tiny : Conformance(name);
}
