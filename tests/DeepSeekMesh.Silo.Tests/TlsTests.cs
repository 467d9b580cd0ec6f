using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DeepSeekMesh.Model.Inference;
using DeepSeekMesh.Silo.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Hosting;
using Orleans.Runtime;

namespace DeepSeekMesh.Silo.Tests;

/// <summary>
/// Mutual TLS between `dsmesh silo` processes and their clients (`--tls-cert/--tls-key/--tls-ca`):
/// members with a certificate from the mesh's CA form a cluster and serve; a client or a silo whose
/// certificate comes from another CA, or that speaks plain TCP, is refused.
/// </summary>
public sealed class TlsTests : IDisposable
{
    readonly string _dir = Scratch.NewDirectory("tls-");

    /// <summary>A CA and a leaf it signed, written as PEM files; returns the MeshTls that uses them.</summary>
    MeshTls Issue(string name, X509Certificate2 ca, string caPath)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(name);
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var leaf = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(12), RandomNumberGenerator.GetBytes(8));
        var certPath = Path.Combine(_dir, $"{name}.crt");
        var keyPath = Path.Combine(_dir, $"{name}.key");
        File.WriteAllText(certPath, leaf.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new MeshTls { CertificatePath = certPath, KeyPath = keyPath, CaPath = caPath };
    }

    (X509Certificate2 Ca, string Path) Authority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var path = Path.Combine(_dir, $"{name}.crt");
        File.WriteAllText(path, ca.ExportCertificatePem());
        return (ca, path);
    }

    static string Args(MeshTls tls) => $"--tls-cert {tls.CertificatePath} --tls-key {tls.KeyPath} --tls-ca {tls.CaPath}";

    static async Task<IHost> ConnectAsync(int gatewayPort, string clusterId, MeshTls? tls, int timeoutSeconds = 30)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.UseOrleansClient(c =>
        {
            c.Configure<Orleans.Configuration.ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = "dsmesh"; });
            c.UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort));
            if (tls is not null) c.UseTls(tls.Configure);
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds)).Token);
            // A refused handshake may surface only on the first call.
            await host.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(TimeSpan.FromSeconds(timeoutSeconds));
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    [Fact]
    public async Task OnlyMembersWithTheMeshCertificateAuthorityGetIn()
    {
        var (ca, caPath) = Authority("mesh-ca");
        var (rogueCa, rogueCaPath) = Authority("rogue-ca");
        var siloTls = Issue("silo", ca, caPath);
        var clientTls = Issue("gateway", ca, caPath);
        var rogue = Issue("rogue", rogueCa, caPath); // signed by another CA, trusting ours

        await using var processes = new SiloProcesses();
        var clusterId = $"dsmesh-tls-{Guid.NewGuid():N}";
        var primary = processes.Start("all", TestModels.Tiny, Args(siloTls), clusterId);
        var member = processes.Start("expert", TestModels.Tiny, $"--primary 127.0.0.1:{primary.SiloPort} {Args(siloTls)}", clusterId);

        // A client with the mesh CA's certificate: the two silos formed one cluster over TLS and serve.
        using var client = await ConnectAsync(primary.GatewayPort, clusterId, clientTls);
        var grains = client.Services.GetRequiredService<IClusterClient>();
        for (var deadline = DateTime.UtcNow.AddSeconds(60); (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true)).Count < 2;)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the TLS silos did not form a cluster\n{primary.Log}\n{member.Log}");
            await Task.Delay(200);
        }
        int[] prompt = [12, 7, 301, 45, 9];
        var expected = Runs.SingleProcess(TestModels.Tiny, [new GenerationRequest(prompt, Runs.Greedy(8))])[0];
        Assert.Equal(Runs.Ids(expected.Tokens), Runs.Ids(await Runs.Complete(grains, prompt, Runs.Greedy(8))));

        // Refused: a certificate from another CA, and plain TCP.
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(primary.GatewayPort, clusterId, rogue, timeoutSeconds: 8));
        await Assert.ThrowsAnyAsync<Exception>(() => ConnectAsync(primary.GatewayPort, clusterId, null, timeoutSeconds: 8));

        // A silo with the rogue certificate cannot join.
        var intruder = processes.Start("expert", TestModels.Tiny, $"--primary 127.0.0.1:{primary.SiloPort} {Args(rogue)}", clusterId);
        await Task.Delay(TimeSpan.FromSeconds(10));
        var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true);
        Assert.Equal(2, hosts.Count);
        Assert.DoesNotContain(hosts.Keys, h => h.Endpoint.Port == intruder.SiloPort);
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
