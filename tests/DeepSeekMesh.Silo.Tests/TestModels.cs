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
        var dir = Path.Combine(Path.GetTempPath(), $"dsmesh-silo-tests-tiny-{Environment.ProcessId}");
        if (!File.Exists(Path.Combine(dir, "config.json")))
            ModelPreset.WriteDemo(dir, "tiny", seed: 7);
        return dir;
    });

    static readonly Lazy<string> V3TopologyPreset = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"dsmesh-silo-tests-v3-{Environment.ProcessId}");
        if (!File.Exists(Path.Combine(dir, "config.json")))
            ModelPreset.WriteDemo(dir, "v3-topology", seed: 5);
        return dir;
    });

    /// <summary>DeepSeek-V3's real layer and expert counts (61 layers, 58 MoE × 256 experts) at tiny widths.</summary>
    public static string V3Topology => V3TopologyPreset.Value;

    /// <summary>A random-weight "tiny" preset model (4 layers, 16 experts, top-4), written once per test run.</summary>
    public static string Tiny => TinyPreset.Value;

    /// <summary>Names accepted by <see cref="Directory"/>: the three conformance checkpoints and the preset.</summary>
    public static TheoryData<string> All => new() { "tiny-a", "tiny-b", "tiny-c", "preset-tiny" };

    public static string Directory(string name) => name == "preset-tiny" ? Tiny : Conformance(name);
}
