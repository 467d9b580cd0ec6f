using DeepSeekMesh.Gateway;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace DeepSeekMesh.Cli.Hosting;

/// <summary><c>dsmesh gateway</c>'s process: the gateway as an Orleans client of a running mesh.</summary>
public static class GatewayClientHost
{
    public static WebApplication Build(GatewaySettings gateway, ClusterClientSettings cluster)
    {
        if (cluster.Gateways.Count == 0 && cluster.Redis is null)
            throw new ArgumentException("the gateway needs a cluster: give a silo gateway endpoint (--primary HOST:PORT) or --redis");
        return GatewayHost.Build(gateway, builder => builder.UseOrleansClient(c =>
        {
            c.Configure<ClusterOptions>(o => { o.ClusterId = cluster.ClusterId; o.ServiceId = cluster.ServiceId; });
            if (cluster.Redis is { } redis) c.UseRedisClustering(redis);
            else c.UseStaticClustering(cluster.Gateways.ToArray());
            if (cluster.Tls is { } tls) c.UseTls(tls.Configure);
            c.UseConnectionRetryFilter(RetryConnect);
            c.AddActivityPropagation(); // the request's trace continues into the completion grain
        }));
    }

    static async Task<bool> RetryConnect(Exception error, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine($"gateway: cluster not reachable yet ({error.GetType().Name}: {error.Message}); retrying in 2 s");
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        return !cancellationToken.IsCancellationRequested;
    }
}
