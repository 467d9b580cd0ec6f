using System.Net;
using DeepSeekMesh.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace DeepSeekMesh.Silo.Hosting;

/// <summary>Where a silo listens and how it finds its cluster.</summary>
public sealed record SiloHostSettings
{
    public required MeshSiloOptions Mesh { get; init; }
    public int SiloPort { get; init; } = 11111;
    public int GatewayPort { get; init; } = 30000;
    /// <summary>The address this silo listens on and advertises; loopback by default (one machine).</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;
    /// <summary>Development clustering: the primary silo's endpoint; null = this silo is the primary.</summary>
    public IPEndPoint? Primary { get; init; }
    /// <summary>Redis membership instead of development clustering.</summary>
    public string? Redis { get; init; }
    public string ClusterId { get; init; } = "dsmesh";
    public string ServiceId { get; init; } = "dsmesh";
    /// <summary>Mutual TLS for silo-to-silo and client traffic; null = plain TCP.</summary>
    public MeshTls? Tls { get; init; }
}

/// <summary>Builds the host of one mesh silo process (<c>dsmesh silo</c>).</summary>
public static class MeshSiloHost
{
    public static IHost Build(SiloHostSettings settings)
    {
        var builder = Host.CreateApplicationBuilder();
        // OpenTelemetry (OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set), health checks, Management:Port endpoint.
        builder.AddServiceDefaults($"dsmesh-silo-{settings.Mesh.Role.Name()}");
        builder.Services.AddHostedService<MeshMetrics>();
        // A stopping expert silo drains (its experts move away first): give it the time, within Kubernetes' grace period.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.Mesh.Plan.DrainTimeout + TimeSpan.FromSeconds(15));
        builder.UseOrleans(silo =>
        {
            silo.AddActivityPropagation(); // traces: gateway -> completion grain -> router/expert grains
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = settings.ClusterId;
                o.ServiceId = settings.ServiceId;
            });
            // Clients (the gateway) talk only to completion grains, which live on frontends: an expert silo
            // opens no client gateway, so a client never routes a request through a silo that scaling or a
            // failure may take away (a request sent through a gateway that dies is lost until its timeout).
            int gatewayPort = settings.Mesh.Role == SiloRole.Expert ? 0 : settings.GatewayPort;
            silo.ConfigureEndpoints(settings.Address, settings.SiloPort, gatewayPort, listenOnAnyHostAddress: false);
            if (settings.Tls is { } tls) silo.UseTls(tls.Configure);
            // Silos advertise the machine's IP by default; pin the address we were given (loopback on one machine).
            silo.Services.PostConfigure<EndpointOptions>(o => o.AdvertisedIPAddress = settings.Address);
            if (settings.Redis is { } redis)
                silo.UseRedisClustering(redis);
            else
                silo.UseDevelopmentClustering(settings.Primary ?? new IPEndPoint(settings.Address, settings.SiloPort));
            // In a Kubernetes pod (service account mounted): silo name = POD_NAME, ORLEANS_SERVICE_ID /
            // ORLEANS_CLUSTER_ID from the environment, silos whose pods are gone are declared dead.
            // Needs pod get/list/watch/patch RBAC (helm/deepseekmesh). Off everywhere else.
            if (k8s.KubernetesClientConfiguration.IsInCluster())
                silo.UseKubernetesHosting();
            silo.AddDeepSeekMesh(settings.Mesh);
        });
        return builder.Build();
    }

    /// <summary>Parses "HOST:PORT" (HOST an IP address or "localhost").</summary>
    public static IPEndPoint ParseEndpoint(string text)
    {
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is <= 0 or > 65535)
            throw new ArgumentException($"'{text}' is not HOST:PORT");
        var host = text[..colon].Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return new IPEndPoint(IPAddress.Loopback, port);
        if (IPAddress.TryParse(host, out var address)) return new IPEndPoint(address, port);
        var resolved = Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            ?? throw new ArgumentException($"cannot resolve host '{host}'");
        return new IPEndPoint(resolved, port);
    }
}
