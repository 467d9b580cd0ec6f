using System.Diagnostics;

namespace DeepSeekMesh.TestSupport;

/// <summary>Runs the real dsmesh (<see cref="RepoPaths.Dsmesh"/>) as a user would, or any other program the tests need.</summary>
public static class DsmeshProcess
{
    /// <summary><c>dotnet dsmesh.dll args…</c> to completion (3 minutes at most).</summary>
    public static ProcessResult Run(params string[] args) => Run(TimeSpan.FromMinutes(3), args);

    public static ProcessResult Run(TimeSpan timeout, params string[] args) => RunProgram("dotnet", [RepoPaths.Dsmesh, .. args], timeout);

    /// <summary>
    /// The start info of a long-running <c>dotnet dsmesh.dll args…</c> (a silo, a gateway) with stdout and
    /// stderr redirected; the caller starts it, reads its output and kills it.
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(RepoPaths.Dsmesh);
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    /// <summary>Runs <paramref name="file"/> to completion; past <paramref name="timeout"/> it is killed and this throws.</summary>
    public static ProcessResult RunProgram(string file, IEnumerable<string> args, TimeSpan timeout, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)}: not done in {timeout}");
        }
        return new ProcessResult(process.ExitCode, stdout.Result, stderr.Result);
    }
}
