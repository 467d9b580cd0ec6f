using System.Runtime.InteropServices;

namespace DeepSeekMesh.Model.Native;

/// <summary>
/// glibc's heap, tuned for a long-running tensor server; libtorch takes every CPU tensor from malloc.
/// Two defaults make resident memory creep up under load (measured: bench/soak, README "Soak"):
/// <list type="bullet">
/// <item>glibc serves a large block by mmap and returns it to the system when freed, but then raises
/// its mmap threshold (up to 32 MB) to the size just freed, so later tensors of that size come from
/// the heap, where steps of varying batch shapes leave holes that are never given back. A fixed
/// threshold turns the adjustment off: blocks of 128 KiB and more stay mmap'd and go back on free.</item>
/// <item>Every thread that allocates under contention may get an arena of its own (up to 8 per core),
/// each holding its own free memory: 2 arenas bound that.</item>
/// </list>
/// Set by <c>dsmesh</c> at start; the environment's <c>MALLOC_MMAP_THRESHOLD_</c> / <c>MALLOC_ARENA_MAX</c>
/// (read by glibc itself) win.
/// </summary>
public static partial class NativeHeap
{
    public const int MmapThresholdBytes = 128 << 10;
    public const int Arenas = 2;

    const int MmapThresholdParameter = -3; // glibc's M_MMAP_THRESHOLD
    const int ArenaMaxParameter = -8; // M_ARENA_MAX

    /// <summary>Applies both settings; false where this is not glibc on Linux (or the environment sets both).</summary>
    public static bool Configure()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            bool any = false, ok = true;
            if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is null) { any = true; ok &= mallopt(MmapThresholdParameter, MmapThresholdBytes) == 1; }
            if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is null) { any = true; ok &= mallopt(ArenaMaxParameter, Arenas) == 1; }
            return any && ok;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // musl and others: no mallopt
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
