using System.CommandLine;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// <c>tcptalk cert create --out DIR</c>: a self-signed test CA, a server certificate it signs (the given DNS name,
/// 127.0.0.1 and ::1), and with <c>--client</c> a client certificate, as PEM files; keys owner-only.
/// </summary>
internal static class CertCommand
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");
    private static readonly Oid ClientAuthentication = new("1.3.6.1.5.5.7.3.2", "Client Authentication");

    public static Command Create()
    {
        var output = new Option<string>("--out")
        {
            Description = "Directory for ca.pem, server.pem, server.key (and client.pem, client.key); created if missing, no file overwritten",
            HelpName = "dir",
            Required = true,
        };
        var name = new Option<string>("--name")
        {
            Description = "DNS name (or IP address) the server certificate is for; 127.0.0.1 and ::1 are always included",
            DefaultValueFactory = _ => "localhost",
            HelpName = "name",
        };
        var days = new Option<int>("--days")
        {
            Description = "Days the certificates are valid",
            DefaultValueFactory = _ => 30,
            HelpName = "count",
        };
        days.Validators.Add(r =>
        {
            int value = r.GetValueOrDefault<int>();
            if (value is < 1 or > 3650)
            {
                r.AddError($"--days must be between 1 and 3650, not {value}");
            }
        });
        var client = new Option<bool>("--client")
        {
            Description = "Also make client.pem and client.key, signed by the same CA (for serve --tls-client-ca)",
        };

        var create = new Command("create", "Make a test CA and a server certificate it signs (and a client certificate), as PEM files for --tls-*");
        create.Add(output);
        create.Add(name);
        create.Add(days);
        create.Add(client);
        create.SetAction(result =>
        {
            Write(result.GetValue(output)!, result.GetValue(name)!, result.GetValue(days), result.GetValue(client), Console.Out);
            return (int)ExitCode.Success;
        });

        return new Command("cert", "Certificates for TLS (serve --tls-cert, send --tls)") { create };
    }

    private static void Write(string directory, string name, int days, bool withClient, TextWriter stdout)
    {
        var kind = Uri.CheckHostName(name);
        if (kind is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6))
        {
            throw new UserErrorException(ExitCode.Usage, $"--name '{name}' is not a DNS name or an IP address");
        }

        string[] files = withClient ? ["ca.pem", "server.pem", "server.key", "client.pem", "client.key"] : ["ca.pem", "server.pem", "server.key"];
        var paths = files.ToDictionary(f => f, f => Path.Combine(directory, f));
        if (paths.Values.FirstOrDefault(File.Exists) is { } existing)
        {
            throw new UserErrorException(ExitCode.Usage, $"{existing} already exists; remove it or choose another --out");
        }

        // Whole seconds: certificates store times to the second, and a certificate may not outlive its issuer.
        var now = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var notBefore = now.AddHours(-1); // tolerate a peer whose clock is a little behind
        var notAfter = now.AddDays(days);

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest(Subject($"TcpTalk test CA {now:yyyy-MM-dd HH:mm:ss}"), caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, critical: false));
        using var ca = caRequest.CreateSelfSigned(notBefore, notAfter);

        var names = new SubjectAlternativeNameBuilder();
        if (kind == UriHostNameType.Dns)
        {
            names.AddDnsName(name);
        }

        var addresses = new List<IPAddress> { IPAddress.Loopback, IPAddress.IPv6Loopback };
        if (IPAddress.TryParse(name, out var address) && !addresses.Contains(address))
        {
            addresses.Insert(0, address);
        }

        addresses.ForEach(names.AddIpAddress);
        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var server = Issue(ca, name, serverKey, ServerAuthentication, names, notBefore, notAfter);

        try
        {
            Directory.CreateDirectory(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException(ExitCode.Usage, $"cannot create the directory {directory}: {ErrorReporter.Readable(e)}", e);
        }

        WritePublic(paths["ca.pem"], ca.ExportCertificatePem());
        WritePublic(paths["server.pem"], server.ExportCertificatePem());
        WritePrivate(paths["server.key"], serverKey.ExportPkcs8PrivateKeyPem());
        string forNames = string.Join(", ", (kind == UriHostNameType.Dns ? [name] : Array.Empty<string>()).Concat(addresses.Select(a => a.ToString())));
        stdout.WriteLine($"wrote {paths["ca.pem"]}: the CA certificate ({ca.Subject}); clients trust it with --tls-ca");
        stdout.WriteLine($"wrote {paths["server.pem"]}: the server certificate for {forNames}, valid {days} day(s), SHA256 {CertificateFingerprint.FormatSha256(server)}");
        stdout.WriteLine($"wrote {paths["server.key"]}: its private key{OwnerOnly}");

        if (withClient)
        {
            using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var clientCertificate = Issue(ca, "tcptalk client", clientKey, ClientAuthentication, names: null, notBefore, notAfter);
            WritePublic(paths["client.pem"], clientCertificate.ExportCertificatePem());
            WritePrivate(paths["client.key"], clientKey.ExportPkcs8PrivateKeyPem());
            stdout.WriteLine($"wrote {paths["client.pem"]}: a client certificate ({clientCertificate.Subject}) signed by the same CA");
            stdout.WriteLine($"wrote {paths["client.key"]}: its private key{OwnerOnly}");
        }

        stdout.WriteLine("The CA's private key was not kept: nothing else can ever be signed in its name.");
        stdout.WriteLine();
        stdout.WriteLine("Try it (two terminals):");
        string mutualServe = withClient ? $" --tls-client-ca {Quote(paths["ca.pem"])}" : "";
        string mutualSend = withClient ? $" --tls-cert {Quote(paths["client.pem"])} --tls-key {Quote(paths["client.key"])}" : "";
        string host = kind == UriHostNameType.IPv6 ? $"[{name}]" : name;
        stdout.WriteLine($"  tcptalk serve --tls-cert {Quote(paths["server.pem"])} --tls-key {Quote(paths["server.key"])}{mutualServe}");
        stdout.WriteLine($"  tcptalk send {host} --tls --tls-ca {Quote(paths["ca.pem"])}{mutualSend} hello");
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string commonName, ECDsa key, Oid usage, SubjectAlternativeNameBuilder? names,
        DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        var request = new CertificateRequest(Subject(commonName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([usage], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (names is not null)
        {
            request.CertificateExtensions.Add(names.Build());
        }

        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // a positive serial number
        return request.Create(ca, notBefore, notAfter, serial);
    }

    private static X500DistinguishedName Subject(string commonName)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(commonName);
        return subject.Build();
    }

    private static string OwnerOnly => OperatingSystem.IsWindows() ? " (keep it private)" : " (owner-only: mode 600)";

    private static string Quote(string path) => path.Contains(' ', StringComparison.Ordinal) ? $"\"{path}\"" : path;

    private static void WritePublic(string path, string pem) => Write(path, pem, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write });

    private static void WritePrivate(string path, string pem)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            // Created with these permissions, so the key is never readable by others, not even for a moment.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        Write(path, pem, options);
    }

    private static void Write(string path, string pem, FileStreamOptions options)
    {
        try
        {
            using var stream = new FileStream(path, options);
            stream.Write(Encoding.ASCII.GetBytes(pem + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException(ExitCode.Usage, $"cannot write {path} ({e.GetType().Name})", e);
        }
    }
}
