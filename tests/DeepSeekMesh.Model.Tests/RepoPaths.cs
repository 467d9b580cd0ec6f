namespace DeepSeekMesh.Model.Tests;

/// <summary>Test data lives in the repository (tests/conformance), found from the test binary's folder.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Conformance => Path.Combine(Root, "tests", "conformance");

    public static IEnumerable<string> ConformanceCases() =>
        Directory.GetDirectories(Conformance, "tiny-*").Order(StringComparer.Ordinal);

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DeepSeekMesh.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no DeepSeekMesh.sln above {AppContext.BaseDirectory}");
    }
}
