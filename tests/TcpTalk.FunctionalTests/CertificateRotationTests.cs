using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// A certificate renewed under a running <c>serve --tls-cert --tls-key</c>, as certbot renews one: new files renamed
/// over the old ones (or written in place). New handshakes get the new certificate without a signal; a connection
/// made before goes on with its session; a half-written file is refused with a warning and the old one stays.
/// </summary>
public sealed class CertificateRotationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-rotate-").FullName;
    private readonly X509Certificate2 _ca = TestCertificates.CreateCa();

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string CertificateFile => Path.Combine(_dir, "server.pem");

    private string KeyFile => Path.Combine(_dir, "server.key");

    /// <summary>Issues a new server certificate and writes it and its key as PEM: renamed into place, or written over the files.</summary>
    private X509Certificate2 Install(bool byRename = true)
    {
        var certificate = TestCertificates.IssueServer(_ca);
        using var key = certificate.GetECDsaPrivateKey()!;
        foreach (var (path, pem) in new[] { (CertificateFile, certificate.ExportCertificatePem()), (KeyFile, key.ExportPkcs8PrivateKeyPem()) })
        {
            if (byRename)
            {
                File.WriteAllText(path + ".tmp", pem);
                File.Move(path + ".tmp", path, overwrite: true);
            }
            else
            {
                File.WriteAllText(path, pem);
            }
        }

        return certificate;
    }

    private static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', Convert.ToHexString(SHA256.HashData(certificate.RawData)).Chunk(2).Select(pair => new string(pair)));

    /// <summary>A TLS client that takes any certificate, and has read its greeting; the certificate it was shown.</summary>
    private static async Task<(SslStream Tls, X509Certificate2 Certificate)> ConnectAsync(ServeProcess server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Loopback);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, timeout.Token);
        Assert.Equal("Welcome 127.0.0.1!", await ReadFrameAsync(tls));
        return (tls, new X509Certificate2(tls.RemoteCertificate!));
    }

    private static async Task<string> ReadFrameAsync(SslStream tls)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await tls.ReadAsync(one, timeout.Token) == 1 && one[0] != 0)
        {
            bytes.Add(one[0]);
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    [Fact]
    public async Task RenewedFilesServeNewHandshakesWithTheNewCertificateWhileAnOpenSessionGoesOn()
    {
        using var first = Install();
        await using var server = await Tcptalk.ServeAsync("--tls-cert", CertificateFile, "--tls-key", KeyFile);
        var (open, shown) = await ConnectAsync(server);
        using (open)
        using (shown)
        {
            Assert.Equal(first.Thumbprint, shown.Thumbprint);

            using var renewed = Install(byRename: true);
            string line = await ReloadTests.LogAsync(server, "TLS certificate reloaded:");
            Assert.Contains($"TLS certificate reloaded: subject CN=localhost, SHA-256 fingerprint {Fingerprint(renewed)}, expires ", line, StringComparison.Ordinal);

            var (fresh, freshShown) = await ConnectAsync(server);
            using (fresh)
            using (freshShown)
            {
                Assert.Equal(renewed.Thumbprint, freshShown.Thumbprint);
            }

            await open.WriteAsync("on-the-old-session\0"u8.ToArray());
            await server.Process.WaitForLineAsync(l => l.EndsWith(" on-the-old-session", StringComparison.Ordinal));
        }

        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task AHalfWrittenCertificateIsRefusedWithAWarningAndTheOldOneStaysUntilTheNextChange()
    {
        using var first = Install();
        await using var server = await Tcptalk.ServeAsync("--tls-cert", CertificateFile, "--tls-key", KeyFile);

        string pem = File.ReadAllText(CertificateFile);
        File.WriteAllText(CertificateFile, pem[..(pem.Length / 2)]); // cut off mid-write
        string warning = await ReloadTests.LogAsync(server, "TLS certificate not reloaded:");
        Assert.Contains("the old one stays in use until the files change again", warning, StringComparison.Ordinal);
        var (tls, shown) = await ConnectAsync(server);
        using (tls)
        using (shown)
        {
            Assert.Equal(first.Thumbprint, shown.Thumbprint);
        }

        using var renewed = Install(byRename: false); // the next change: written in place this time
        await ReloadTests.LogAsync(server, $"SHA-256 fingerprint {Fingerprint(renewed)}");
        var (again, shownAgain) = await ConnectAsync(server);
        using (again)
        using (shownAgain)
        {
            Assert.Equal(renewed.Thumbprint, shownAgain.Thumbprint);
        }

        Assert.Equal(0, await server.StopAsync());
    }
}
