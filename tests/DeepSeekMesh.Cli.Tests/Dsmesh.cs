using System.Diagnostics;

namespace DeepSeekMesh.Cli.Tests;

/// <summary>Runs the real dsmesh executable (built next to the tests) as a user would.</summary>
public static class Dsmesh
{
    public static string Root { get; } = FindRoot();

    static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "DeepSeekMesh.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dsmesh.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(3))) { process.Kill(true); throw new TimeoutException($"dsmesh {string.Join(' ', args)}"); }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
