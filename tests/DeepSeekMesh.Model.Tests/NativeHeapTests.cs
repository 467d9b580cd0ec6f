using DeepSeekMesh.Model.Native;

namespace DeepSeekMesh.Model.Tests;

public sealed class NativeHeapTests
{
    [Fact]
    public void GlibcTakesTheFixedMmapThresholdAndArenaLimit()
    {
        // dsmesh calls this first thing; on this Linux (glibc) mallopt must accept both, or the settings silently do nothing.
        Assert.True(OperatingSystem.IsLinux(), "the test machine runs Linux");
        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null && Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is not null)
            return; // glibc took the operator's own
        Assert.True(NativeHeap.Configure(), "mallopt(M_MMAP_THRESHOLD or M_ARENA_MAX) was refused");
    }
}
