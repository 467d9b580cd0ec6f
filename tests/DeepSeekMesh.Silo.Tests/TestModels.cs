using DeepSeekMesh.Model.Presets;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DeepSeekMesh.Silo.Tests;

/// <summary>The models the mesh is tested on: the conformance checkpoints and a random "tiny" preset model.</summary>
public static class TestModels
{
    public static string Root { get; } = FindRoot();

    public static string Conformance(string name) => Path.Combine(Root, "tests", "conformance", name);

    static readonly Lazy<string> TinyPreset = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"dsmesh-silo-tests-tiny-{Environment.ProcessId}");
        if (!File.Exists(Path.Combine(dir, "config.json")))
            RandomCheckpoint.Write(ModelPreset.Config("tiny"), dir, seed: 7, CheckpointDtype.Bf16);
        return dir;
    });

    static readonly Lazy<string> V3TopologyPreset = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), $"dsmesh-silo-tests-v3-{Environment.ProcessId}");
        if (!File.Exists(Path.Combine(dir, "config.json")))
            RandomCheckpoint.Write(ModelPreset.Config("v3-topology"), dir, seed: 5, CheckpointDtype.Bf16);
        return dir;
    });

    /// <summary>DeepSeek-V3's real layer and expert counts (61 layers, 58 MoE × 256 experts) at tiny widths.</summary>
    public static string V3Topology => V3TopologyPreset.Value;

    /// <summary>A random-weight "tiny" preset model (4 layers, 16 experts, top-4), written once per test run.</summary>
    public static string Tiny => TinyPreset.Value;

    /// <summary>Names accepted by <see cref="Directory"/>: the three conformance checkpoints and the preset.</summary>
    public static TheoryData<string> All => new() { "tiny-a", "tiny-b", "tiny-c", "preset-tiny" };

    public static string Directory(string name) => name == "preset-tiny" ? Tiny : Conformance(name);

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DeepSeekMesh.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no DeepSeekMesh.sln above {AppContext.BaseDirectory}");
    }
}
