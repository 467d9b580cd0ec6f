namespace DeepSeekMesh.TestSupport;

/// <summary>The repository, found by walking up from the test binaries to DeepSeekMesh.sln, and the files tests read from it.</summary>
public static class RepoPaths
{
    static readonly Lazy<string> RootDirectory = new(FindRoot);

    public static string Root => RootDirectory.Value;

    /// <summary>tests/conformance: the reference checkpoints, logits and tokenizer vectors.</summary>
    public static string Conformance => Path.Combine(Root, "tests", "conformance");

    /// <summary>The conformance checkpoints (tests/conformance/tiny-*), in ordinal order.</summary>
    public static IEnumerable<string> ConformanceCases() =>
        Directory.GetDirectories(Conformance, "tiny-*").Order(StringComparer.Ordinal);

    /// <summary>DeepSeek-V3's real tokenizer (assets/tokenizer/deepseek-v3).</summary>
    public static string TokenizerDirectory => Path.Combine(Root, "assets", "tokenizer", "deepseek-v3");

    /// <summary>
    /// The built dsmesh.dll: next to the test binaries when the test project references the CLI,
    /// otherwise the CLI's own output for the configuration these tests were built in.
    /// </summary>
    public static string Dsmesh
    {
        get
        {
            var beside = Path.Combine(AppContext.BaseDirectory, "dsmesh.dll");
            if (File.Exists(beside)) return beside;
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
            var built = Path.Combine(Root, "src", "DeepSeekMesh.Cli", "bin", configuration, "net10.0", "dsmesh.dll");
            return File.Exists(built) ? built : throw new FileNotFoundException($"build the CLI first: {built}");
        }
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DeepSeekMesh.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no DeepSeekMesh.sln above {AppContext.BaseDirectory}");
    }
}
