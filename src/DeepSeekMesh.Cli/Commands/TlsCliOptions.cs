using System.CommandLine;
using DeepSeekMesh.Silo.Hosting;

namespace DeepSeekMesh.Cli.Commands;

/// <summary>--tls-cert, --tls-key, --tls-ca: mutual TLS for the mesh's Orleans traffic (silo and gateway verbs).</summary>
public sealed class TlsCliOptions
{
    readonly Option<FileInfo?> _certificate = new("--tls-cert") { Description = "PEM certificate (or PKCS#12 without --tls-key) this process presents to its peers: turns mutual TLS on" };
    readonly Option<FileInfo?> _key = new("--tls-key") { Description = "PEM private key of --tls-cert" };
    readonly Option<FileInfo?> _ca = new("--tls-ca") { Description = "PEM CA bundle a peer's certificate must chain to (required with --tls-cert)" };

    public void AddTo(Command command)
    {
        command.Add(_certificate);
        command.Add(_key);
        command.Add(_ca);
    }

    /// <summary>The TLS settings, or null when --tls-cert is not given; the files are checked here so a bad path fails at start.</summary>
    public MeshTls? Read(ParseResult parse)
    {
        var certificate = parse.GetValue(_certificate);
        var key = parse.GetValue(_key);
        var ca = parse.GetValue(_ca);
        if (certificate is null)
        {
            if (key is not null || ca is not null) throw new ArgumentException("--tls-key and --tls-ca need --tls-cert");
            return null;
        }
        if (ca is null) throw new ArgumentException("--tls-cert needs --tls-ca (the CA that peers' certificates must chain to)");
        var tls = new MeshTls { CertificatePath = certificate.FullName, KeyPath = key?.FullName, CaPath = ca.FullName };
        tls.Load().Certificate.Dispose();
        return tls;
    }
}
