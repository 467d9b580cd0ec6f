using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace DeepSeekMesh.Model.Native;

/// <summary>
/// Where libtorch comes from. The cpu and cuda builds carry their own (TorchSharp's libtorch
/// packages). The external build (<c>-p:TorchBackend=external</c>) carries only LibTorchSharp, the
/// native half of TorchSharp, and uses a libtorch already on the machine — PyTorch's
/// (<c>site-packages/torch/lib</c>), a libtorch download, an image's own: the folder in
/// <c>DSMESH_LIBTORCH</c>, else whatever the loader finds on <c>LD_LIBRARY_PATH</c>.
/// LibTorchSharp is compiled against one libtorch version (<see cref="ExpectedVersion"/>); libtorch
/// has no stable ABI, so another version (or PyTorch's pre-C++11-ABI builds before 2.7) lacks some of
/// the C++ symbols it calls. <see cref="Check"/> compares them before anything is loaded.
/// </summary>
public static partial class LibTorchRuntime
{
    public const string FolderVariable = "DSMESH_LIBTORCH";

    /// <summary>libtorch's libraries in dependency order (the CUDA ones exist only in CUDA builds).</summary>
    static readonly string[] Libraries = ["libc10.so", "libtorch_cpu.so", "libc10_cuda.so", "libtorch_cuda.so", "libtorch.so"];

    /// <summary>cpu, cuda or external: how this build was made.</summary>
    public static string Backend => Metadata("TorchBackend") ?? "cpu";

    /// <summary>The libtorch version TorchSharp's LibTorchSharp was compiled against.</summary>
    public static string ExpectedVersion => Metadata("LibTorchVersion") ?? "unknown";

    static string? Metadata(string key) => typeof(LibTorchRuntime).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == key)?.Value;

    /// <summary>
    /// External build with <c>DSMESH_LIBTORCH</c> set: loads that folder's libtorch before TorchSharp
    /// looks for one, so LibTorchSharp binds to it. Call before the first tensor operation. Returns
    /// the files loaded (none in the other builds, whose libtorch sits next to LibTorchSharp).
    /// </summary>
    public static IReadOnlyList<string> Preload()
    {
        var folder = Environment.GetEnvironmentVariable(FolderVariable);
        if (Backend != "external" || string.IsNullOrEmpty(folder)) return [];
        if (!File.Exists(Path.Combine(folder, "libtorch_cpu.so")))
            throw new DirectoryNotFoundException($"{FolderVariable}={folder}: no libtorch_cpu.so there (give libtorch's lib folder, e.g. site-packages/torch/lib)");
        var loaded = new List<string>();
        foreach (var name in Libraries)
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path)) continue;
            NativeLibrary.Load(path);
            loaded.Add(path);
        }
        return loaded;
    }

    /// <summary>Finds the libtorch this process will load and checks it against LibTorchSharp, without loading either.</summary>
    public static LibTorchCheck Check()
    {
        var torchSharp = LibTorchSharpPath();
        var (folder, source) = FindFolder();
        var version = folder is null ? null : source == "bundled" ? ExpectedVersion : VersionOf(folder);
        if (torchSharp is null || folder is null)
            return new LibTorchCheck(torchSharp, folder, source, version, 0, []);
        var needed = ElfSymbols.Read(torchSharp).Undefined.Where(IsTorchSymbol).ToList();
        var defined = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in Libraries)
        {
            var path = Path.Combine(folder, name);
            if (File.Exists(path)) defined.UnionWith(ElfSymbols.Read(path).Defined);
        }
        var missing = needed.Where(s => !defined.Contains(s)).Order(StringComparer.Ordinal).ToList();
        return new LibTorchCheck(torchSharp, folder, source, version, needed.Count, missing);
    }

    /// <summary>libtorch files mapped into this process now (after the first tensor operation).</summary>
    public static IReadOnlyList<string> LoadedLibraries()
    {
        if (!File.Exists("/proc/self/maps")) return [];
        return File.ReadLines("/proc/self/maps")
            .Select(line => line.IndexOf('/') is var at and >= 0 ? line[at..] : "")
            .Where(p => Libraries.Any(l => Path.GetFileName(p).StartsWith(l, StringComparison.Ordinal)))
            .Distinct().ToList();
    }

    /// <summary>C++ symbols of libtorch's own namespaces (at::, c10::, torch::, caffe2::; their vtables and type info).</summary>
    static bool IsTorchSymbol(string symbol) => TorchSymbol().IsMatch(symbol);

    [GeneratedRegex(@"^_Z(T[IVS])?N[KVrLR]*(2at|3c10|5torch|6caffe2)")]
    private static partial Regex TorchSymbol();

    static string? LibTorchSharpPath()
    {
        var app = AppContext.BaseDirectory;
        return new[] { Path.Combine(app, "runtimes", "linux-x64", "native", "libLibTorchSharp.so"), Path.Combine(app, "libLibTorchSharp.so") }
            .FirstOrDefault(File.Exists);
    }

    static (string? Folder, string Source) FindFolder()
    {
        var app = AppContext.BaseDirectory;
        var candidates = new List<(string Folder, string Source)>();
        if (Backend == "external" && Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } configured)
            candidates.Add((configured, FolderVariable));
        if (Backend != "external")
            candidates.AddRange([(Path.Combine(app, "runtimes", "linux-x64", "native"), "bundled"), (app, "bundled")]);
        foreach (var dir in (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            candidates.Add((dir, "LD_LIBRARY_PATH"));
        candidates.AddRange([("/usr/local/lib", "system"), ("/usr/lib/x86_64-linux-gnu", "system"), ("/usr/lib", "system")]);
        foreach (var (folder, source) in candidates)
            if (File.Exists(Path.Combine(folder, "libtorch_cpu.so"))) return (Path.GetFullPath(folder), source);
        return (null, "not found");
    }

    /// <summary>PyTorch's torch/version.py, a libtorch download's build-version, a Debian soname, or a NuGet package folder.</summary>
    static string? VersionOf(string folder)
    {
        var pyVersion = Path.Combine(folder, "..", "version.py");
        if (File.Exists(pyVersion) && VersionPy().Match(File.ReadAllText(pyVersion)) is { Success: true } m) return m.Groups[1].Value;
        var buildVersion = Path.Combine(folder, "..", "build-version");
        if (File.Exists(buildVersion)) return File.ReadAllText(buildVersion).Trim();
        const string prefix = "libtorch_cpu.so.";
        var soname = Directory.EnumerateFiles(folder, "libtorch_cpu.so*").Select(f => Path.GetFileName(f)!)
            .Where(f => f.Length > prefix.Length && f.StartsWith(prefix, StringComparison.Ordinal))
            .Select(f => f[prefix.Length..]).OrderByDescending(v => v.Length).FirstOrDefault();
        if (soname is not null) return soname;
        return PackageFolder().Match(folder.Replace('\\', '/')) is { Success: true } p ? p.Groups[1].Value : null;
    }

    [GeneratedRegex(@"__version__\s*=\s*['""]([^'""]+)['""]")]
    private static partial Regex VersionPy();

    [GeneratedRegex(@"/libtorch-[a-z0-9.-]+/([0-9][0-9.]*)/runtimes/")]
    private static partial Regex PackageFolder();
}
