using System.Net;
using DeepSeekMesh.Gateway;
using DeepSeekMesh.Silo;
using DeepSeekMesh.Silo.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace DeepSeekMesh.Cli.Hosting;

/// <summary>
/// <c>dsmesh serve</c>'s process: the gateway and a one-silo mesh (role all) in one host; the gateway
/// uses the silo's grain factory.
/// </summary>
public static class ServeHost
{
    public static WebApplication Build(ServeSettings settings)
    {
        var gateway = settings.Gateway with { ServiceName = "dsmesh-serve" };
        var mesh = settings.Silo with
        {
            Role = SiloRole.All,
            ModelDirectory = Path.GetFullPath(gateway.ModelDirectory),
            ModelId = gateway.ModelId,
        };
        return GatewayHost.Build(gateway, builder =>
        {
            builder.UseOrleans(s =>
            {
                s.Configure<ClusterOptions>(o => { o.ClusterId = settings.ClusterId; o.ServiceId = settings.ServiceId; });
                s.ConfigureEndpoints(IPAddress.Loopback, settings.SiloPort, settings.SiloGatewayPort, listenOnAnyHostAddress: false);
                s.Services.PostConfigure<EndpointOptions>(o => o.AdvertisedIPAddress = IPAddress.Loopback);
                s.UseDevelopmentClustering(new IPEndPoint(IPAddress.Loopback, settings.SiloPort));
                s.AddDeepSeekMesh(mesh);
                s.AddActivityPropagation();
            });
            builder.Services.AddHostedService<MeshMetrics>();
        });
    }
}
