namespace DeepSeekMesh.ChatTemplates.Tests;

/// <summary>Locates files in the repository by walking up from the test binaries to DeepSeekMesh.sln.</summary>
internal static class RepoFiles
{
    private static readonly Lazy<string> RootDir = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "DeepSeekMesh.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("DeepSeekMesh.sln not found above " + AppContext.BaseDirectory);
    });

    public static string Root => RootDir.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string ReadText(params string[] parts) => File.ReadAllText(Path(parts));
}
