namespace DeepSeekMesh.Model.Native;

/// <summary>
/// The libtorch a process would load, against LibTorchSharp: <paramref name="Needed"/> libtorch C++
/// symbols LibTorchSharp calls, <paramref name="Missing"/> those the libtorch in
/// <paramref name="Folder"/> lacks (none: it binds; some: it would fail to load, or exit the process
/// at the first call of a missing function).
/// </summary>
public sealed record LibTorchCheck(string? LibTorchSharp, string? Folder, string Source, string? Version, int Needed, IReadOnlyList<string> Missing)
{
    public bool Fits => LibTorchSharp is not null && Folder is not null && Needed > 0 && Missing.Count == 0;

    /// <summary>Same major.minor as <paramref name="expected"/> (a local suffix such as +cu128 aside).</summary>
    public bool VersionMatches(string expected) =>
        Version is { } v && MajorMinor(v) == MajorMinor(expected);

    static string MajorMinor(string version) => string.Join('.', version.Split('+')[0].Split('.').Take(2));
}
