using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace DeepSeekMesh.Silo.Hosting;

/// <summary>
/// Mutual TLS for the mesh's Orleans traffic (silo to silo, and gateway clients to silos): every
/// end presents a certificate and accepts only peers whose certificate chains to the mesh's CA
/// (cert-manager's <c>tls.crt</c>, <c>tls.key</c>, <c>ca.crt</c>). Peers are pods addressed by IP, so
/// the CA, not the host name, is what identifies a member.
/// </summary>
public sealed record MeshTls
{
    /// <summary>PEM certificate (or a PKCS#12 file when <see cref="KeyPath"/> is null).</summary>
    public required string CertificatePath { get; init; }
    /// <summary>PEM private key of the certificate.</summary>
    public string? KeyPath { get; init; }
    /// <summary>PEM bundle of the CA(s) a peer's certificate must chain to.</summary>
    public required string CaPath { get; init; }

    /// <summary>Loads the files, failing with the file named when one is missing or unreadable.</summary>
    public (X509Certificate2 Certificate, X509Certificate2Collection Roots) Load()
    {
        foreach (var path in new[] { CertificatePath, KeyPath, CaPath })
            if (path is not null && !File.Exists(path)) throw new FileNotFoundException($"TLS file not found: {path}", path);
        try
        {
            var certificate = KeyPath is null
                ? X509CertificateLoader.LoadPkcs12FromFile(CertificatePath, password: null)
                : X509Certificate2.CreateFromPemFile(CertificatePath, KeyPath);
            if (!certificate.HasPrivateKey) throw new ArgumentException($"{CertificatePath}: the certificate has no private key");
            // SslStream needs a key it can use on every platform: re-import through PKCS#12.
            certificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
            var roots = new X509Certificate2Collection();
            roots.ImportFromPemFile(CaPath);
            if (roots.Count == 0) throw new ArgumentException($"{CaPath}: no CA certificate in the file");
            return (certificate, roots);
        }
        catch (Exception e) when (e is System.Security.Cryptography.CryptographicException)
        {
            throw new ArgumentException($"TLS certificate {CertificatePath} / key {KeyPath} / CA {CaPath}: {e.Message}", e);
        }
    }

    /// <summary>Requires a peer certificate and checks it against the CA, both directions.</summary>
    public void Configure(TlsOptions options)
    {
        var (certificate, roots) = Load();
        options.LocalCertificate = certificate;
        options.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
        options.RemoteCertificateValidation = (peer, _, errors) => IsTrusted(peer, errors, roots);
        options.OnAuthenticateAsClient = (_, client) => client.TargetHost = certificate.GetNameInfo(X509NameType.DnsName, forIssuer: false);
    }

    /// <summary>True when <paramref name="peer"/> chains to one of <paramref name="roots"/> (the host name is not checked).</summary>
    public static bool IsTrusted(X509Certificate2? peer, SslPolicyErrors errors, X509Certificate2Collection roots)
    {
        if (peer is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) return false;
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(peer);
    }
}
