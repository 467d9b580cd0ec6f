using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Hosting;
using Orleans.Runtime;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>`dsmesh silo` processes on loopback and an Orleans client connected to them.</summary>
public sealed class SiloProcesses : IAsyncDisposable
{
    readonly List<SiloProcess> _silos = new();
    IHost? _client;

    public IReadOnlyList<SiloProcess> Silos => _silos;

    public IClusterClient Client => _client!.Services.GetRequiredService<IClusterClient>();

    /// <summary>The cluster id the client connected with.</summary>
    public string? ClusterId { get; private set; }

    public static string Dsmesh => RepoPaths.Dsmesh;

    /// <summary>A redis-server and a mesh on it: 1 frontend and <paramref name="expertSilos"/> expert `dsmesh silo` processes (tiny model), with a client connected.</summary>
    public static async Task<(SiloProcesses Processes, RedisServer Redis, string Clustering)> StartWithRedisAsync(int expertSilos)
    {
        var redis = await RedisServer.StartAsync();
        var processes = new SiloProcesses();
        var clusterId = $"dsmesh-test-{Guid.NewGuid():N}";
        var clustering = $"--redis {redis.Connection}";
        processes.Start("frontend", TestModels.Tiny, clustering, clusterId);
        for (int i = 0; i < expertSilos; i++) processes.Start("expert", TestModels.Tiny, clustering, clusterId);
        await processes.ConnectAsync(c => c.UseRedisClustering(redis.Connection), clusterId);
        await processes.WaitForSilosAsync(1 + expertSilos, TimeSpan.FromSeconds(60));
        return (processes, redis, clustering);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public SiloProcess Start(string role, string model, string clustering, string clusterId)
    {
        var silo = SiloProcess.Start(role, model, FreePort(), FreePort(), clustering, clusterId);
        _silos.Add(silo);
        return silo;
    }

    /// <summary>A `dsmesh gateway` process of the cluster on a free HTTP port (<see cref="SiloProcess.HttpPort"/>); listed with the silos, killed with them.</summary>
    public SiloProcess StartGateway(string model, string clustering, string clusterId)
    {
        int port = FreePort();
        var gateway = SiloProcess.Launch("gateway", siloPort: 0, gatewayPort: 0, httpPort: port,
            ["gateway", "--model", model, "--port", port.ToString(), "--cluster-id", clusterId, .. clustering.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        _silos.Add(gateway);
        return gateway;
    }

    public async Task ConnectAsync(Action<IClientBuilder> clustering, string clusterId)
    {
        ClusterId = clusterId;
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleansClient(client =>
        {
            client.Configure<Orleans.Configuration.ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = "dsmesh";
            });
            // A step that recovers from a killed expert silo on a loaded 2-core machine can exceed Orleans' 30 s default.
            client.Configure<Orleans.Configuration.ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(120));
            clustering(client);
        });
        _client = builder.Build();
        await _client.StartAsync();
    }

    /// <summary>Waits until <paramref name="count"/> silos are active in the membership table.</summary>
    public async Task WaitForSilosAsync(int count, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            foreach (var silo in _silos)
                if (silo.HasExited) throw new InvalidOperationException($"silo {silo.Role} exited: {silo.Log}");
            try
            {
                var hosts = await Client.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
                if (hosts.Count >= count) return;
            }
            catch (Exception) when (clock.Elapsed < timeout) { }
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"{count} silos did not join in {timeout}:\n{string.Join("\n---\n", _silos.Select(s => s.Log))}");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            try { await _client.StopAsync(new CancellationTokenSource(TimeSpan.FromSeconds(5)).Token); } catch (Exception) { }
            _client.Dispose();
        }
        foreach (var silo in _silos) silo.Dispose();
    }
}

public static class SiloProcessesFailures
{
    /// <summary>Awaits <paramref name="task"/>; when it fails, fails with every silo's log attached (a test's exception alone rarely says why).</summary>
    public static async Task<T> WithLogsOnFailure<T>(this Task<T> task, SiloProcesses processes)
    {
        try
        {
            return await task;
        }
        catch (Exception e)
        {
            throw new Xunit.Sdk.XunitException($"{e.GetType().Name}: {e.Message}\n" +
                string.Join("\n", processes.Silos.Select(s => $"--- {s.Role} :{s.SiloPort}{(s.HasExited ? " (exited)" : "")}\n{s.Log}")));
        }
    }
}

public sealed class SiloProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _log = new();

    SiloProcess(Process process, string role, int siloPort, int gatewayPort, int httpPort)
    {
        _process = process;
        Role = role;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
        HttpPort = httpPort;
    }

    public string Role { get; }
    public int SiloPort { get; }
    public int GatewayPort { get; }
    /// <summary>A `dsmesh gateway`'s HTTP port (0 for silos).</summary>
    public int HttpPort { get; }
    public bool HasExited => _process.HasExited;
    public string Log { get { lock (_log) return _log.ToString(); } }

    public static SiloProcess Start(string role, string model, int siloPort, int gatewayPort, string clustering, string clusterId) =>
        Launch(role, siloPort, gatewayPort, httpPort: 0, [
            "silo", "--role", role, "--model", model, "--silo-port", siloPort.ToString(), "--gateway-port", gatewayPort.ToString(),
            "--cluster-id", clusterId, "--threads", "1", .. clustering.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);

    /// <summary>`dotnet dsmesh.dll args…` with its output collected in <see cref="Log"/>.</summary>
    public static SiloProcess Launch(string role, int siloPort, int gatewayPort, int httpPort, IEnumerable<string> args)
    {
        var info = DsmeshProcess.StartInfo(args);
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["Logging__Console__TimestampFormat"] = "HH:mm:ss.fff ";
        var silo = new SiloProcess(new Process { StartInfo = info }, role, siloPort, gatewayPort, httpPort);
        silo._process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        silo._process.Start();
        silo._process.BeginOutputReadLine();
        silo._process.BeginErrorReadLine();
        return silo;
    }

    void Append(string? line)
    {
        if (line is null) return;
        lock (_log) _log.AppendLine(line);
    }

    public int Id => _process.Id;

    /// <summary>SIGTERM, as Kubernetes stops a pod: the silo shuts down gracefully (an expert silo drains first).</summary>
    public void Terminate()
    {
        if (!_process.HasExited && Kill(_process.Id, 15) != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
    }

    /// <summary>Waits for the process to exit; false when it did not within <paramref name="timeout"/>.</summary>
    public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(new CancellationTokenSource(timeout).Token)
        .ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    static extern int Kill(int pid, int signal);

    /// <summary>SIGKILL: no graceful shutdown, no membership goodbye.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
