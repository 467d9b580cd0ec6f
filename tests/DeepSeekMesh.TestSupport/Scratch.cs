using System.Diagnostics;

namespace DeepSeekMesh.TestSupport;

/// <summary>
/// Folders for what tests write (random checkpoints, certificates, fuzzed files): all under one
/// folder per test process, deleted when the process exits. Folders left by a run that was killed
/// are swept by the next run, so a test machine's disk does not fill up run after run.
/// </summary>
public static class Scratch
{
    const string Prefix = "dsmesh-tests-";

    static readonly Lazy<string> RootDirectory = new(CreateRoot);

    /// <summary>This test process's folder (created on first use).</summary>
    public static string Root => RootDirectory.Value;

    /// <summary>A fixed folder under <see cref="Root"/>: the same path for the whole run (e.g. a model written once and shared).</summary>
    public static string Named(string name) => Directory.CreateDirectory(Path.Combine(Root, name)).FullName;

    /// <summary>A new, empty folder under <see cref="Root"/> whose name starts with <paramref name="prefix"/>.</summary>
    public static string NewDirectory(string prefix = "") =>
        Directory.CreateDirectory(Path.Combine(Root, prefix + Guid.NewGuid().ToString("N")[..12])).FullName;

    static string CreateRoot()
    {
        SweepAbandoned();
        var root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), Prefix + Environment.ProcessId)).FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
        return root;
    }

    /// <summary>Deletes the folders of test processes that no longer run.</summary>
    static void SweepAbandoned()
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), Prefix + "*"))
            if (int.TryParse(Path.GetFileName(dir).AsSpan(Prefix.Length), out int pid) && !IsRunning(pid))
                TryDelete(dir);
    }

    static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
