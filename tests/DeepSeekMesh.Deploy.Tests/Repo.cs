using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace DeepSeekMesh.Deploy.Tests;

/// <summary>The repository, its chart and its tools, as the contract test uses them.</summary>
static class Repo
{
    public static string Root => RepoPaths.Root;

    /// <summary>The dsmesh built next to the tests (ProjectReference to the CLI).</summary>
    public static string DsmeshDll => RepoPaths.Dsmesh;

    /// <summary>
    /// helm template of helm/deepseekmesh (release dsm, namespace mesh) as JSON, through
    /// deploy/check-chart.sh, which installs its pinned helm into .cache/ first. No helm, no pass.
    /// </summary>
    public static IReadOnlyList<JsonNode> RenderChart(params string[] helmArgs)
    {
        var (code, stdout, stderr) = DsmeshProcess.RunProgram("bash", [Path.Combine(Root, "deploy", "check-chart.sh"), "--render-json", .. helmArgs], TimeSpan.FromMinutes(4), Root);
        Assert.True(code == 0, $"deploy/check-chart.sh --render-json failed ({code}):\n{stderr}");
        return JsonNode.Parse(stdout)!.AsArray().Select(n => n!).ToList();
    }

    public static void Dsmesh(TimeSpan timeout, params string[] args)
    {
        var (code, _, stderr) = DsmeshProcess.Run(timeout, args);
        Assert.True(code == 0, $"dsmesh {string.Join(' ', args)} failed ({code}):\n{stderr}");
    }

    /// <summary>redis-server (Debian's redis-server package; .ci/run installs it).</summary>
    public static string RedisServer()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/bin").Append("/usr/sbin"))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException("redis-server not found: apt-get install -y redis-server (.ci/run does)");
    }

    public static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
