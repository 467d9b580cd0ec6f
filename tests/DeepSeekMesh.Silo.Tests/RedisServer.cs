using System.Diagnostics;
using System.Net.Sockets;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>A throw-away redis-server on loopback (Debian's redis-server; .ci/run installs it) for Redis membership.</summary>
public sealed class RedisServer : IDisposable
{
    readonly Process _process;

    RedisServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Connection => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var path = new[] { "/usr/bin/redis-server", "/usr/sbin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server not found: apt-get install -y redis-server (.ci/run does)");
        int port = SiloProcesses.FreePort();
        var info = new ProcessStartInfo(path) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--bind", "127.0.0.1", "--port", port.ToString(), "--save", "", "--appendonly", "no" }) info.ArgumentList.Add(arg);
        var server = new RedisServer(Process.Start(info)!, port);
        server._process.OutputDataReceived += (_, _) => { };
        server._process.BeginOutputReadLine();
        for (int i = 0; i < 100; i++)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return server;
            }
            catch (SocketException) { await Task.Delay(50); }
        }
        server.Dispose();
        throw new TimeoutException("redis-server did not listen");
    }

    /// <summary>SIGSTOP: the server stops answering (connections stay open and hang), as an unreachable store does.</summary>
    public void Pause() => Signal(19);

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal(18);

    void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0) throw new InvalidOperationException($"kill -{signal} {_process.Id} failed");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            Resume();
            _process.Kill();
        }
        _process.WaitForExit();
        _process.Dispose();
    }
}
