using System.Net;
using System.Net.Sockets;
using DeepSeekMesh.Model.Presets;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace DeepSeekMesh.AppHost.Tests;

static class Repo
{
    public static string Root => RepoPaths.Root;

    public static string TokenizerDirectory => RepoPaths.TokenizerDirectory;

    static string TempRoot => Scratch.Named("apphost-tests");

    /// <summary>A fresh directory under this test run's temp folder; <see cref="Remove"/> deletes it.</summary>
    public static string TempDirectory(string name)
    {
        var dir = Path.Combine(TempRoot, name);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Deletes a directory from <see cref="TempDirectory"/> (and the run's folder once empty); best effort.</summary>
    public static void Remove(string dir)
    {
        try
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            if (Directory.Exists(TempRoot) && !Directory.EnumerateFileSystemEntries(TempRoot).Any()) Directory.Delete(TempRoot);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}

static class Ports
{
    /// <summary>A port nobody listens on now (the OS picks it).</summary>
    public static int Free()
    {
        using var socket = new TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>The first of <paramref name="count"/> consecutive free ports (Orleans ports are numbered from a base).</summary>
    public static int FreeRange(int count)
    {
        var random = new Random();
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int start = random.Next(20000, 29000);
            if (Enumerable.Range(start, count).All(IsFree)) return start;
        }
        throw new InvalidOperationException($"no {count} consecutive free ports");
    }

    static bool IsFree(int port)
    {
        try
        {
            using var socket = new TcpListener(IPAddress.Loopback, port);
            socket.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>The AppHost's demo model, written in-process for the in-process tests (same preset and tokenizer).</summary>
static class DemoModelFiles
{
    static readonly Lazy<string> Dir = new(() =>
        ModelPreset.WriteDemo(Repo.TempDirectory("in-process-demo-tiny"), "tiny", seed: 0, Repo.TokenizerDirectory));

    public static string Directory => Dir.Value;
}
