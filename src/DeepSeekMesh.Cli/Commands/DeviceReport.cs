using DeepSeekMesh.Model.Native;
using TorchSharp;

namespace DeepSeekMesh.Cli.Commands;

/// <summary>
/// <c>dsmesh inspect --devices</c>: which libtorch this process loads and from where, its version
/// against the one LibTorchSharp was built for, whether it defines every libtorch symbol
/// LibTorchSharp calls — and only then loads it and lists what CUDA sees.
/// </summary>
static class DeviceReport
{
    public static int Print(string? require)
    {
        var o = Console.Out;
        var check = LibTorchRuntime.Check();
        o.WriteLine($"build            TorchBackend={LibTorchRuntime.Backend}, TorchSharp {typeof(torch).Assembly.GetName().Version}, built for libtorch {LibTorchRuntime.ExpectedVersion}");
        o.WriteLine($"libtorchsharp    {check.LibTorchSharp ?? "not found next to dsmesh"}");
        o.WriteLine($"libtorch         {check.Folder ?? "not found"} ({check.Source})");
        o.WriteLine($"version          {check.Version ?? "unknown"}{(check.Version is null ? "" : check.VersionMatches(LibTorchRuntime.ExpectedVersion) ? " (matches)" : $" (differs from {LibTorchRuntime.ExpectedVersion})")}");
        if (check.Folder is null || check.LibTorchSharp is null)
        {
            o.WriteLine($"verdict          cannot load: {(check.Folder is null ? $"no libtorch_cpu.so in {LibTorchRuntime.FolderVariable}, LD_LIBRARY_PATH or the system folders" : "LibTorchSharp missing")}");
            return 1;
        }
        o.WriteLine($"symbols          {check.Needed - check.Missing.Count} of {check.Needed} libtorch symbols LibTorchSharp needs are defined there");
        if (check.Missing.Count > 0)
        {
            foreach (var s in check.Missing.Take(5)) o.WriteLine($"  missing        {s}");
            o.WriteLine($"verdict          will not load: {check.Missing.Count} symbols missing (a libtorch {check.Version ?? "of another version"} is not the {LibTorchRuntime.ExpectedVersion} LibTorchSharp was built for); "
                        + $"not loading it here, since a missing function only fails when first called and then ends the process");
            return 1;
        }
        try
        {
            torch.InitializeDeviceType(DeviceType.CPU);
        }
        catch (Exception e)
        {
            o.WriteLine($"verdict          failed to load: {e.Message.Split('\n')[0]}");
            return 1;
        }
        bool cuda = torch.cuda.is_available();
        var loaded = LibTorchRuntime.LoadedLibraries();
        bool cudaBuild = loaded.Any(p => Path.GetFileName(p).StartsWith("libtorch_cuda.so", StringComparison.Ordinal));
        foreach (var p in loaded) o.WriteLine($"loaded           {p}");
        o.WriteLine($"cuda             {(cuda ? $"available, {torch.cuda.device_count()} device(s)" : cudaBuild ? "CUDA build, but no device visible (driver, NVIDIA_VISIBLE_DEVICES?)" : "not in this libtorch (a CPU build)")}");
        using var probe = torch.ones(2, 2).matmul(torch.ones(2, 2));
        o.WriteLine($"cpu check        [2,2]·[2,2] of ones = {probe[0, 0].item<float>()} (expected 2)");
        if (cuda)
        {
            for (int d = 0; d < torch.cuda.device_count(); d++)
            {
                using var x = torch.ones([2, 2], device: torch.device(DeviceType.CUDA, d), dtype: torch.ScalarType.BFloat16);
                using var y = x.matmul(x).to(torch.ScalarType.Float32).cpu();
                o.WriteLine($"cuda:{d}           bf16 [2,2]·[2,2] of ones = {y[0, 0].item<float>()} (expected 2)");
            }
        }
        bool ok = require switch
        {
            "cuda" => cuda,
            "cuda-build" => cudaBuild,
            _ => true,
        };
        o.WriteLine($"verdict          {(ok ? "ok" : $"--require {require} not met")}");
        return ok ? 0 : 1;
    }
}
