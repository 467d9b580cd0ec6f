namespace DeepSeekMesh.ChatTemplates.Tests;

/// <summary>Files in the repository (<see cref="RepoPaths.Root"/>).</summary>
internal static class RepoFiles
{
    public static string Root => RepoPaths.Root;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static string ReadText(params string[] parts) => File.ReadAllText(Path(parts));
}
