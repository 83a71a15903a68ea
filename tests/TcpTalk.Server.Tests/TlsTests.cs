using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Client;
using TcpTalk.Protocol;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Server.Tests;

/// <summary>The server with TLS, over real loopback sockets, with certificates made in the test.</summary>
public sealed class TlsTests : IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);
    private readonly X509Certificate2 _ca = TestCertificates.CreateCa();
    private readonly X509Certificate2 _certificate;
    private readonly CapturedLog _log = new();

    public TlsTests() => _certificate = TestCertificates.IssueServer(_ca);

    public void Dispose()
    {
        _certificate.Dispose();
        _ca.Dispose();
    }

    private async Task<TalkServer> StartAsync(Action<TalkServerOptions>? configure = null, IMessageSink? sink = null)
    {
        var options = new TalkServerOptions { Tls = new ServerTlsOptions { Certificate = _certificate } };
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        configure?.Invoke(options);
        var server = new TalkServer(options, sink ?? MessageSinks.None, _log);
        await server.StartAsync();
        return server;
    }

    private TalkClientOptions ClientOptions(X509Certificate2? clientCertificate = null)
    {
        var tls = new ClientTlsOptions { ClientCertificate = clientCertificate };
        tls.CertificateAuthorities.Add(_ca);
        return new TalkClientOptions { Tls = tls };
    }

    /// <summary>A TLS client that trusts the test CA and sees exact bytes.</summary>
    private async Task<(Socket Socket, SslStream Tls)> ConnectTlsAsync(TalkServer server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.BoundEndpoints[0]).WaitAsync(Step);
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: false));
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(_ca);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", CertificateChainPolicy = policy }).WaitAsync(Step);
        return (socket, tls);
    }

    private static async Task<Socket> ConnectPlainAsync(TalkServer server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.BoundEndpoints[0]).WaitAsync(Step);
        return socket;
    }

    private static async Task<string> ReadToEndAsync(Stream stream)
    {
        using var cts = new CancellationTokenSource(Step);
        var all = new MemoryStream();
        await stream.CopyToAsync(all, cts.Token);
        return Encoding.ASCII.GetString(all.ToArray());
    }

    [Fact]
    public async Task TlsRoundTripCarriesTheGreetingMessagesAndAcknowledgements()
    {
        await using var journal = new FakeJournal();
        var sink = new ChannelMessageSink();
        await using var server = await StartAsync(o => { o.Journal = journal; o.Acknowledge = true; }, sink);
        var options = ClientOptions();
        options.RequireAcknowledgements = true;

        await using (var client = await TalkClient.ConnectAsync("localhost", server.BoundEndpoints[0].Port, options).WaitAsync(Step))
        {
            Assert.Equal("Welcome 127.0.0.1!", client.Greeting);
            Assert.Equal(_certificate.Thumbprint, client.ServerCertificate!.Thumbprint);
            Assert.True(client.TlsProtocol is SslProtocols.Tls12 or SslProtocols.Tls13);
            await client.SendAsync("one").WaitAsync(Step);
            await client.SendAsync("two words").WaitAsync(Step);
            await client.CompleteAsync().WaitAsync(Step);
            Assert.Equal([100L, 101L], client.AcknowledgedIds);
        }

        Assert.Equal(["one", "two words"], journal.Stored);
        using var cts = new CancellationTokenSource(Step);
        var received = new List<ReceivedMessage>();
        await foreach (var message in sink.ReadAllAsync(cts.Token))
        {
            received.Add(message);
            if (received.Count == 2)
            {
                break;
            }
        }

        Assert.Equal(["one", "two words"], received.Select(m => m.Text));
        Assert.Equal([100L, 101L], received.Select(m => m.JournalId));
    }

    [Fact]
    public async Task TheServerLogsItsCertificateAndFingerprintAtStart()
    {
        await using var server = await StartAsync();
        string fingerprint = CertificateFingerprint.FormatSha256(_certificate);
        Assert.Matches(@"^([0-9A-F]{2}:){31}[0-9A-F]{2}$", fingerprint);
        var line = Assert.Single(_log.Entries, e => e.Message.StartsWith("TLS certificate", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Equal($"TLS certificate CN=localhost SHA256 {fingerprint}, valid until {_certificate.NotAfter.ToUniversalTime():yyyy-MM-dd}; client certificates not requested", line.Message);
    }

    [Fact]
    public async Task MutualTlsRefusesAClientWithoutACertificate()
    {
        await using var server = await StartAsync(o => o.Tls!.ClientCertificateAuthorities.Add(_ca));
        int port = server.BoundEndpoints[0].Port;

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => TalkClient.ConnectAsync("127.0.0.1", port, ClientOptions()).WaitAsync(Step));

        Assert.Equal($"127.0.0.1:{port} requires a client certificate (mutual TLS) and none was given", error.Message);
        await Poll.UntilAsync(() => _log.Entries.Any(e => e.Level == LogLevel.Warning));
        var warning = Assert.Single(_log.Entries, e => e.Level == LogLevel.Warning);
        Assert.Matches(@"^Connection 1 from 127\.0\.0\.1:\d+ refused: no client certificate \(mutual TLS requires one\)$", warning.Message);
    }

    [Fact]
    public async Task MutualTlsRefusesACertificateFromAnotherCa()
    {
        using var otherCa = TestCertificates.CreateCa("Other CA");
        using var stranger = TestCertificates.IssueClient(otherCa, "stranger");
        await using var server = await StartAsync(o => o.Tls!.ClientCertificateAuthorities.Add(_ca));
        int port = server.BoundEndpoints[0].Port;

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => TalkClient.ConnectAsync("127.0.0.1", port, ClientOptions(stranger)).WaitAsync(Step));

        Assert.Equal($"127.0.0.1:{port} did not accept the client certificate CN=stranger (is it issued by a CA the server trusts?)", error.Message);
        await Poll.UntilAsync(() => _log.Entries.Any(e => e.Level == LogLevel.Warning));
        var warning = Assert.Single(_log.Entries, e => e.Level == LogLevel.Warning);
        Assert.Matches(@"^Connection 1 from 127\.0\.0\.1:\d+ refused client certificate CN=stranger: not issued by a trusted CA or not valid \(.+\)$", warning.Message);
    }

    [Fact]
    public async Task MutualTlsServesAClientWithACertificateFromItsCa()
    {
        using var clientCertificate = TestCertificates.IssueClient(_ca, "alice");
        var sink = new ChannelMessageSink();
        await using var server = await StartAsync(o => o.Tls!.ClientCertificateAuthorities.Add(_ca), sink);

        await using (var client = await TalkClient.ConnectAsync("127.0.0.1", server.BoundEndpoints[0].Port, ClientOptions(clientCertificate)).WaitAsync(Step))
        {
            Assert.Equal("Welcome 127.0.0.1!", client.Greeting);
            await client.SendAsync("from alice").WaitAsync(Step);
            await client.CompleteAsync().WaitAsync(Step);
        }

        using var cts = new CancellationTokenSource(Step);
        await foreach (var message in sink.ReadAllAsync(cts.Token))
        {
            Assert.Equal("from alice", message.Text);
            break;
        }

        Assert.DoesNotContain(_log.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Contains(_log.Entries, e => e.Message.EndsWith("TLS established (Tls13, client certificate CN=alice)", StringComparison.Ordinal)
                                           || e.Message.EndsWith("TLS established (Tls12, client certificate CN=alice)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GarbageInsteadOfAHandshakeIsClosedAtOnce()
    {
        // The clock never moves: only recognising the garbage can close this connection.
        var clock = new FakeTimeProvider();
        await using var server = await StartAsync(o => o.TimeProvider = clock);
        byte[] garbage = new byte[512];
        new Random(12345).NextBytes(garbage);
        garbage[0] = 0x47; // not a TLS record type (0x14-0x17), as random bytes are 98% of the time

        using var client = await ConnectPlainAsync(server);
        await client.SendAsync(garbage, SocketFlags.None);
        await client.ReadUntilClosedAsync();

        await Poll.UntilAsync(() => server.ActiveConnections == 0);
        // An operator sees it: Warning (issue 16), rate-limited, with the count.
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning
                                           && e.Message.EndsWith("TLS handshake failed: not a TLS client: the first bytes were not a TLS handshake (1 failed since the last such line)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASilentClientIsCutOffAtTheHandshakeTimeout()
    {
        var clock = new FakeTimeProvider();
        await using var server = await StartAsync(o => { o.TimeProvider = clock; o.Tls!.HandshakeTimeout = TimeSpan.FromSeconds(10); });
        using var client = await ConnectPlainAsync(server);
        await Poll.UntilAsync(() => server.ActiveConnections == 1);
        await Task.Delay(100); // the handler is counted just before it starts the handshake and its timer: let it

        clock.Advance(TimeSpan.FromSeconds(9));
        Assert.True(await Loopback.StaysOpenAsync(client));
        clock.Advance(TimeSpan.FromSeconds(2));

        Assert.Empty(await client.ReadUntilClosedAsync());
        await Poll.UntilAsync(() => server.ActiveConnections == 0);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning
                                           && e.Message.EndsWith("TLS handshake failed: no TLS handshake within 10s (handshake timeout) (1 failed since the last such line)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FailedHandshakesAreLoggedAtWarningAtMostOnceASecondWithTheirCount()
    {
        var clock = new FakeTimeProvider();
        await using var server = await StartAsync(o => o.TimeProvider = clock);
        async Task FailOneAsync()
        {
            using var client = await ConnectPlainAsync(server);
            await client.SendAsync("GET / HTTP/1.0\r\n\r\n"u8.ToArray(), SocketFlags.None);
            await client.ReadUntilClosedAsync();
        }

        for (int i = 0; i < 5; i++)
        {
            await FailOneAsync();
        }

        await Poll.UntilAsync(() => server.ActiveConnections == 0);
        Assert.Equal(["(1 failed since the last such line)"], HandshakeWarnings());

        clock.Advance(TimeSpan.FromSeconds(1));
        await FailOneAsync();
        await Poll.UntilAsync(() => server.ActiveConnections == 0 && HandshakeWarnings().Count == 2);
        Assert.Equal(["(1 failed since the last such line)", "(5 failed since the last such line)"], HandshakeWarnings());

        List<string> HandshakeWarnings() => [.. _log.Entries
            .Where(e => e.Level == LogLevel.Warning && e.Message.Contains("TLS handshake failed: not a TLS client", StringComparison.Ordinal))
            .Select(e => e.Message[e.Message.LastIndexOf('(')..])];
    }

    [Fact]
    public async Task APlainClientAtATlsServerFailsFastWithoutAffectingATlsClient()
    {
        var clock = new FakeTimeProvider(); // never moves: no timeout can be what closes the plain client
        var sink = new ChannelMessageSink();
        await using var server = await StartAsync(o => o.TimeProvider = clock, sink);
        int port = server.BoundEndpoints[0].Port;
        await using var tlsClient = await TalkClient.ConnectAsync("127.0.0.1", port, ClientOptions()).WaitAsync(Step);

        using (var plain = await ConnectPlainAsync(server))
        {
            await plain.SendAsync("hello\0"u8.ToArray(), SocketFlags.None);
            byte[] answer = await plain.ReadUntilClosedAsync();
            Assert.DoesNotContain("Welcome", Encoding.ASCII.GetString(answer), StringComparison.Ordinal);
        }

        await Poll.UntilAsync(() => server.ActiveConnections == 1);
        await tlsClient.SendAsync("still here").WaitAsync(Step);
        await tlsClient.CompleteAsync().WaitAsync(Step);
        using var cts = new CancellationTokenSource(Step);
        await foreach (var message in sink.ReadAllAsync(cts.Token))
        {
            Assert.Equal("still here", message.Text);
            break;
        }
    }

    [Fact]
    public async Task IdleTimeoutOverTlsSendsTheReasonThenCloseNotify()
    {
        var clock = new FakeTimeProvider();
        await using var server = await StartAsync(o => { o.TimeProvider = clock; o.IdleTimeout = TimeSpan.FromSeconds(60); });
        var (socket, tls) = await ConnectTlsAsync(server);
        using (socket)
        await using (tls)
        {
            byte[] greeting = new byte["Welcome 127.0.0.1!\0".Length];
            await tls.ReadExactlyAsync(greeting).AsTask().WaitAsync(Step);

            clock.Advance(TimeSpan.FromSeconds(59));
            await Task.Delay(300);
            Assert.Equal(1, server.ActiveConnections);
            clock.Advance(TimeSpan.FromSeconds(2));

            // The sweep woke the pending TLS read by shutting the socket's receive side; the handler then sent the
            // reason inside TLS and ended the session with close_notify (a clean end of stream, not an exception).
            Assert.Equal("error: no complete message for 1m (idle timeout)\0", await ReadToEndAsync(tls));
        }

        await Poll.UntilAsync(() => server.ActiveConnections == 0);
    }

    [Fact]
    public async Task AMessageOverTheLimitOverTlsGetsTheErrorLineAndOnlyThatClientIsClosed()
    {
        var sink = new ChannelMessageSink();
        await using var server = await StartAsync(o => o.MaxMessageBytes = 16, sink);
        await using var good = await TalkClient.ConnectAsync("127.0.0.1", server.BoundEndpoints[0].Port, ClientOptions()).WaitAsync(Step);
        var (socket, tls) = await ConnectTlsAsync(server);
        using (socket)
        await using (tls)
        {
            byte[] greeting = new byte["Welcome 127.0.0.1!\0".Length];
            await tls.ReadExactlyAsync(greeting).AsTask().WaitAsync(Step);
            await tls.WriteAsync(Encoding.ASCII.GetBytes(new string('x', 17) + "\0"));
            Assert.Equal("error: message longer than 16 bytes (the limit); it starts \"xxxxxxxxxxxxxxxxx\"\0", await ReadToEndAsync(tls));
        }

        await good.SendAsync("exactly16bytes..").WaitAsync(Step);
        await good.CompleteAsync().WaitAsync(Step);
        using var cts = new CancellationTokenSource(Step);
        await foreach (var message in sink.ReadAllAsync(cts.Token))
        {
            Assert.Equal("exactly16bytes..", message.Text);
            break;
        }
    }

    [Fact]
    public async Task AConnectionOverTheLimitIsClosedWithoutAPlainTextLine()
    {
        await using var server = await StartAsync(o => o.MaxConnections = 1);
        int port = server.BoundEndpoints[0].Port;
        await using var first = await TalkClient.ConnectAsync("127.0.0.1", port, ClientOptions()).WaitAsync(Step);

        var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => TalkClient.ConnectAsync("127.0.0.1", port, ClientOptions()).WaitAsync(Step));

        Assert.Equal($"127.0.0.1:{port} closed the connection during the TLS handshake without a word (busy, not allowed, or not a TLS server)", error.Message);
        Assert.Equal(1, server.RejectedConnections);
        await first.SendAsync("first is fine").WaitAsync(Step);
        await first.CompleteAsync().WaitAsync(Step);
    }

    [Fact]
    public async Task IntermediateCertificatesAreSentWithTheServerCertificate()
    {
        using var intermediate = TestCertificates.IssueIntermediate(_ca);
        using var certificate = TestCertificates.IssueServer(intermediate);
        await using (var server = await StartAsync(o => o.Tls!.Certificate = certificate))
        {
            var error = await Assert.ThrowsAsync<TlsHandshakeException>(() => TalkClient.ConnectAsync("127.0.0.1", server.BoundEndpoints[0].Port, ClientOptions()).WaitAsync(Step));
            Assert.Contains("is not trusted: its issuer CN=TcpTalk Test Intermediate is not a trusted CA", error.Message, StringComparison.Ordinal);
        }

        await using (var server = await StartAsync(o => { o.Tls!.Certificate = certificate; o.Tls.IntermediateCertificates.Add(intermediate); }))
        {
            await using var client = await TalkClient.ConnectAsync("127.0.0.1", server.BoundEndpoints[0].Port, ClientOptions()).WaitAsync(Step);
            Assert.Equal("Welcome 127.0.0.1!", client.Greeting);
            await client.CompleteAsync().WaitAsync(Step);
        }
    }

    [Fact]
    public async Task StopClosesAnIdleTlsConnectionAtOnce()
    {
        var server = await StartAsync(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        var (socket, tls) = await ConnectTlsAsync(server);
        using (socket)
        await using (tls)
        {
            byte[] greeting = new byte["Welcome 127.0.0.1!\0".Length];
            await tls.ReadExactlyAsync(greeting).AsTask().WaitAsync(Step);

            var started = DateTime.UtcNow;
            await server.StopAsync().WaitAsync(Step);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(5), "an idle TLS connection waited for the shutdown timeout");
            Assert.Equal(0, server.ActiveConnections);
        }

        await server.DisposeAsync();
    }

    [Fact]
    public void TlsHandshakeTimeoutDefaultIs10Seconds() => Assert.Equal(TimeSpan.FromSeconds(10), new ServerTlsOptions().HandshakeTimeout);

    [Fact]
    public void TlsCertificateMissingOrWithoutKeyIsInvalid()
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkServerOptions { Tls = new ServerTlsOptions() }.Validate());
        Assert.Equal("Tls.Certificate is missing: a TLS server needs a certificate with its private key", error.Message);

        using var publicOnly = X509CertificateLoader.LoadCertificate(_certificate.RawData);
        error = Assert.Throws<ArgumentException>(() => new TalkServerOptions { Tls = new ServerTlsOptions { Certificate = publicOnly } }.Validate());
        Assert.Equal("Tls.Certificate (CN=localhost) has no private key", error.Message);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(86_401)]
    public void TlsHandshakeTimeoutInvalid(int seconds)
    {
        var options = new TalkServerOptions { Tls = new ServerTlsOptions { Certificate = _certificate, HandshakeTimeout = TimeSpan.FromSeconds(seconds) } };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.StartsWith("Tls.HandshakeTimeout is ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(86_400)]
    public void TlsHandshakeTimeoutValid(int seconds) =>
        new TalkServerOptions { Tls = new ServerTlsOptions { Certificate = _certificate, HandshakeTimeout = TimeSpan.FromSeconds(seconds) } }.Validate();
}

/// <summary>Every log line of a server, with its level, as the tests read them.</summary>
internal sealed class CapturedLog : ILoggerFactory, ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }

    public void Dispose()
    {
    }
}
