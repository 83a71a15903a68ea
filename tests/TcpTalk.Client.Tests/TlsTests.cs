using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Protocol;

namespace TcpTalk.Client.Tests;

/// <summary>The client's TLS: trust by CA, by pin, or not at all, and one clear sentence for every failure.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly X509Certificate2 _ca = TestCertificates.CreateCa();
    private readonly X509Certificate2 _certificate;
    private readonly TestListener _listener = TestListener.Start(IPAddress.Loopback);

    public TlsTests() => _certificate = TestCertificates.IssueServer(_ca);

    public void Dispose()
    {
        _listener.Dispose();
        _certificate.Dispose();
        _ca.Dispose();
    }

    private string Target => $"127.0.0.1:{_listener.Port}";

    /// <summary>A TLS server for one connection: greeting, then reads until the client closes.</summary>
    private Task ServeTlsOnceAsync() => _listener.ServeOneAsync(async socket =>
    {
        await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }).Bounded();
            await tls.WriteAsync("Welcome 127.0.0.1!\0"u8.ToArray());
            var buffer = new byte[1024];
            while (await tls.ReadAsync(buffer).Bounded() > 0)
            {
            }

            await tls.ShutdownAsync();
        }
        catch (Exception e) when (e is AuthenticationException or IOException)
        {
            // The client refused the certificate: the test checks what the client says.
        }
    });

    private Task<TalkClient> ConnectAsync(ClientTlsOptions tls, TimeProvider? time = null) =>
        TalkClient.ConnectAsync("127.0.0.1", _listener.Port, new TalkClientOptions { Tls = tls, TimeProvider = time ?? TimeProvider.System }).Bounded();

    [Fact]
    public async Task ACaTrustedServerIsReadOverTls()
    {
        var server = ServeTlsOnceAsync();
        var tls = new ClientTlsOptions();
        tls.CertificateAuthorities.Add(_ca);

        await using (var client = await ConnectAsync(tls))
        {
            Assert.Equal("Welcome 127.0.0.1!", client.Greeting);
            Assert.Equal(_certificate.Thumbprint, client.ServerCertificate!.Thumbprint);
            await client.SendAsync("hello").Bounded();
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
    }

    [Fact]
    public async Task APinnedFingerprintIsTrustedWhoeverIssuedTheCertificate()
    {
        var server = ServeTlsOnceAsync();
        string pin = Convert.ToHexStringLower(CertificateFingerprint.Sha256(_certificate)); // lower case, no colons

        await using (var client = await ConnectAsync(new ClientTlsOptions { PinnedSha256 = pin }))
        {
            Assert.Equal("Welcome 127.0.0.1!", client.Greeting);
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
    }

    [Fact]
    public async Task APinMismatchIsRefusedShowingBothFingerprints()
    {
        var server = ServeTlsOnceAsync();
        using var other = TestCertificates.IssueServer(_ca);
        string pinned = CertificateFingerprint.FormatSha256(other);

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => ConnectAsync(new ClientTlsOptions { PinnedSha256 = pinned }));

        Assert.Equal($"the certificate of {Target} has SHA-256 fingerprint {CertificateFingerprint.FormatSha256(_certificate)}, not the pinned {pinned}", error.Message);
        await server.Bounded();
    }

    [Fact]
    public async Task AServerIssuedByAnUnknownCaIsRefused()
    {
        var server = ServeTlsOnceAsync();

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => ConnectAsync(new ClientTlsOptions()));

        Assert.Equal($"the certificate of {Target} (CN=localhost) is not trusted: its issuer CN=TcpTalk Test CA is not a trusted CA; trust that CA or pin the certificate's fingerprint", error.Message);
        await server.Bounded();
    }

    [Fact]
    public async Task ACertificateForAnotherNameIsRefused()
    {
        var server = ServeTlsOnceAsync();
        var tls = new ClientTlsOptions { TargetHost = "example.org" };
        tls.CertificateAuthorities.Add(_ca);

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => ConnectAsync(tls));

        Assert.Equal($"the certificate of {Target} is for localhost, 127.0.0.1, ::1, not 'example.org'", error.Message);
        await server.Bounded();
    }

    [Fact]
    public async Task InsecureConnectsToAnUntrustedServer()
    {
        var server = ServeTlsOnceAsync();

        await using (var client = await ConnectAsync(new ClientTlsOptions { Insecure = true }))
        {
            Assert.Equal("Welcome 127.0.0.1!", client.Greeting);
            await client.CompleteAsync().Bounded();
        }

        await server.Bounded();
    }

    [Fact]
    public async Task APlainServerIsReportedAsNotATlsServerWithWhatItSent()
    {
        var server = _listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("Welcome 127.0.0.1!\0");
            await connection.DrainAsync();
        });

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => ConnectAsync(new ClientTlsOptions { Insecure = true }));

        Assert.Equal($"{Target} is not a TLS server: it answered the TLS handshake with \"Welcome 127.0.0.1!\\x00\"", error.Message);
        await server.Bounded();
    }

    [Fact]
    public async Task AServerThatClosesDuringTheHandshakeIsReportedAsSuch()
    {
        var server = _listener.ServeOneAsync(async connection =>
        {
            await connection.ReceiveAsync(new byte[1], SocketFlags.None).Bounded(); // the ClientHello has come
            connection.Shutdown(SocketShutdown.Send);
            await connection.DrainAsync();
        });

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => ConnectAsync(new ClientTlsOptions { Insecure = true }));

        Assert.Equal($"{Target} closed the connection during the TLS handshake without a word (busy, not allowed, or not a TLS server)", error.Message);
        await server.Bounded();
    }

    [Fact]
    public async Task ASilentServerTimesTheHandshakeOut()
    {
        var clock = new FakeTimeProvider();
        var accepted = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var server = _listener.ServeOneAsync(async connection =>
        {
            accepted.SetResult();
            await release.Task.Bounded();
        });

        var connecting = ConnectAsync(new ClientTlsOptions { Insecure = true }, clock);
        await accepted.Task.Bounded();
        await Task.Delay(200); // let the client send its ClientHello and wait
        Assert.False(connecting.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(10));

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => connecting);
        Assert.Equal($"TLS handshake with {Target} did not complete within 10s", error.Message);
        release.SetResult();
        await server.Bounded();
    }

    [Fact]
    public void TlsDefaultsTrustTheSystemStore()
    {
        var tls = new ClientTlsOptions();
        Assert.Null(tls.TargetHost);
        Assert.Empty(tls.CertificateAuthorities);
        Assert.Null(tls.PinnedSha256);
        Assert.Null(tls.ClientCertificate);
        Assert.False(tls.Insecure);
        Assert.Null(new TalkClientOptions().Tls);
        new TalkClientOptions { Tls = tls }.Validate();
    }

    [Fact]
    public void TlsWithTwoWaysOfTrustIsInvalid()
    {
        var tls = new ClientTlsOptions { Insecure = true, PinnedSha256 = new string('a', 64) };
        var error = Assert.Throws<ArgumentException>(() => new TalkClientOptions { Tls = tls }.Validate());
        Assert.Equal("Tls: give at most one of CertificateAuthorities, PinnedSha256 and Insecure", error.Message);
    }

    [Theory]
    [InlineData("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89")]
    [InlineData("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("sha256:ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 23 45 67 89")]
    public void TlsPinnedSha256Valid(string pin)
    {
        new TalkClientOptions { Tls = new ClientTlsOptions { PinnedSha256 = pin } }.Validate();
        Assert.True(CertificateFingerprint.TryParse(pin, out byte[] bytes));
        Assert.Equal("AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89", CertificateFingerprint.Format(bytes));
    }

    [Theory]
    [InlineData("")]
    [InlineData("AB:CD")]
    [InlineData("abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678")]
    [InlineData("abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567890")]
    [InlineData("zzcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    public void TlsPinnedSha256Invalid(string pin)
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkClientOptions { Tls = new ClientTlsOptions { PinnedSha256 = pin } }.Validate());
        Assert.Equal($"Tls.PinnedSha256 '{pin}' is not a SHA-256 fingerprint (64 hex digits, colons optional)", error.Message);
    }
}
