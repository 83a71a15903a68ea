using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// The real <c>tcptalk serve --trusted-proxy</c> behind real HAProxy (send-proxy-v2 and send-proxy, health checks on)
/// and real nginx stream (proxy_protocol on): a client bound to 127.0.0.5 is greeted as 127.0.0.5, and serve's
/// output line and the journal record show 127.0.0.5 with the client's own port (and haproxy's unique id in v2).
/// Skipped, with the reason, where haproxy or nginx's stream module is not installed.
/// </summary>
public sealed class ProxyProtocolServeTests : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);
    private static readonly IPAddress s_client = IPAddress.Parse("127.0.0.5");

    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-proxy-").FullName;

    private string Db => Path.Combine(_dir, "tcptalk.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Task<ServeProcess> ServeBehindABalancerAsync() =>
        Tcptalk.ServeAsync("--journal", Db, "--trusted-proxy", "127.0.0.1/32", "--verbose");

    [HaproxyTheory]
    [InlineData(ProxyProtocolVersion.V2)]
    [InlineData(ProxyProtocolVersion.V1)]
    public async Task BehindHaproxyTheClientIsGreetedPrintedAndStoredWithItsOwnAddressAndPort(ProxyProtocolVersion version)
    {
        await using var server = await ServeBehindABalancerAsync();
        await using var haproxy = await HaproxyFixture.StartAsync(server.Port, version, healthChecks: true);

        // A health check reaches serve and is served as the balancer's own connection, not refused.
        string check = version == ProxyProtocolVersion.V2 ? "v2 LOCAL" : "v1 PROXY tcp4 127.0.0.1:";
        await server.Process.WaitForLineAsync(l => l.Contains("from trusted proxy 127.0.0.1:", StringComparison.Ordinal) && l.Contains(check, StringComparison.Ordinal),
            stderr: true, timeout: s_wait);

        int port = await TalkThroughAsync(haproxy.Frontend, "hello via haproxy", haproxy.Output);
        var record = await StopAndReadRecordAsync(server, port, "hello via haproxy");
        if (version == ProxyProtocolVersion.V2)
        {
            // haproxy's unique-id-format starts with the client's address and port in hex.
            Assert.StartsWith($"7F000005:{port:X4}_", record.GetProperty("unique_id").GetString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.False(record.TryGetProperty("unique_id", out _));
        }

        Assert.DoesNotContain(server.Process.Stderr, l => l.Contains("closed without a greeting", StringComparison.Ordinal));
    }

    [HaproxyFact]
    public async Task WithTlsBehindHaproxyTheHeaderComesBeforeTheHandshakeAndTheClientIsStillItself()
    {
        var (made, _, madeErrors) = await Tcptalk.RunAsync(["cert", "create", "--out", _dir]);
        Assert.True(made == 0, string.Join("\n", madeErrors));
        await using var server = await Tcptalk.ServeAsync("--journal", Db, "--trusted-proxy", "127.0.0.1/32",
            "--tls-cert", Path.Combine(_dir, "server.pem"), "--tls-key", Path.Combine(_dir, "server.key"));
        await using var haproxy = await HaproxyFixture.StartAsync(server.Port, ProxyProtocolVersion.V2, healthChecks: true);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(s_client, 0));
        using var cts = new CancellationTokenSource(s_wait);
        await socket.ConnectAsync(haproxy.Frontend, cts.Token);
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        using var ca = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificateFromFile(Path.Combine(_dir, "ca.pem"));
        var policy = new System.Security.Cryptography.X509Certificates.X509ChainPolicy
        {
            TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust,
            RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
        };
        policy.CustomTrustStore.Add(ca);
        await using var tls = new System.Net.Security.SslStream(new NetworkStream(socket, ownsSocket: false));
        await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions { TargetHost = "localhost", CertificateChainPolicy = policy }, cts.Token);
        var greeting = new byte["Welcome 127.0.0.5!\0".Length];
        await tls.ReadExactlyAsync(greeting, cts.Token);
        Assert.Equal("Welcome 127.0.0.5!\0", Encoding.ASCII.GetString(greeting));
        await tls.WriteAsync("hello over tls via haproxy\0"u8.ToArray(), cts.Token);
        await tls.ShutdownAsync();
        socket.Shutdown(SocketShutdown.Send);
        Assert.Equal(0, await tls.ReadAsync(new byte[64], cts.Token));

        await StopAndReadRecordAsync(server, port, "hello over tls via haproxy");
    }

    [NginxStreamFact]
    public async Task BehindNginxStreamTheClientIsGreetedPrintedAndStoredWithItsOwnAddressAndPort()
    {
        await using var server = await ServeBehindABalancerAsync();
        await using var nginx = await NginxStreamFixture.StartAsync(server.Port);
        int port = await TalkThroughAsync(nginx.Frontend, "hello via nginx", nginx.Output);
        await StopAndReadRecordAsync(server, port, "hello via nginx");
    }

    [Fact]
    public async Task AConnectionFromATrustedAddressWithoutAHeaderIsClosedWithoutAGreetingAndLogged()
    {
        // tcptalk send waits for the greeting before it sends: the server waits for a header that never comes.
        await using var server = await Tcptalk.ServeAsync("--trusted-proxy", "127.0.0.0/8", "--proxy-header-timeout", "1s");
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "no header"]);
        Assert.NotEqual(0, code);
        Assert.StartsWith("tcptalk: ", Assert.Single(stderr), StringComparison.Ordinal);
        string warning = await server.Process.WaitForLineAsync(l => l.Contains("closed without a greeting", StringComparison.Ordinal), stderr: true);
        Assert.Contains("from trusted proxy 127.0.0.1:", warning, StringComparison.Ordinal);
        Assert.Contains("no complete PROXY header within 1s (proxy header timeout)", warning, StringComparison.Ordinal);
        Assert.Empty(server.Process.Stdout);
    }

    [Fact]
    public async Task BenchWithProxyProtocolV2LoadsATrustingServerAsIfThroughABalancer()
    {
        await using var server = await Tcptalk.ServeAsync("--trusted-proxy", "127.0.0.0/8");
        var (code, stdout, stderr) = await Tcptalk.RunAsync(
            ["bench", $"127.0.0.1:{server.Port}", "--proxy-protocol", "v2", "--messages", "200", "--connections", "8", "--json"], timeout: TimeSpan.FromSeconds(60));
        Assert.True(code == 0, string.Join("\n", stderr));
        using var report = JsonDocument.Parse(string.Join("\n", stdout));
        Assert.Equal(200, report.RootElement.GetProperty("sessions").GetInt64());
        Assert.Equal(0, report.RootElement.GetProperty("errors").GetProperty("total").GetInt64());

        // Every session's message was printed with a client of its own in 10.0.0.0/8.
        for (int i = 0; i < 300 && server.Process.Stdout.Count < 200; i++)
        {
            await Task.Delay(50); // serve's output thread may still be writing the last lines
        }

        var clients = server.Process.Stdout.Select(l => l.Split(' ')[1]).ToList();
        Assert.Equal(200, clients.Count);
        Assert.All(clients, c => Assert.StartsWith("10.", c, StringComparison.Ordinal));
        Assert.Equal(clients.Count, clients.Distinct().Count());

        // Without the header, the same server refuses every connection before its greeting.
        var (refused, _, refusedErrors) = await Tcptalk.RunAsync(["bench", $"127.0.0.1:{server.Port}", "--messages", "10"], timeout: TimeSpan.FromSeconds(60));
        Assert.NotEqual(0, refused);
        Assert.StartsWith("tcptalk: ", refusedErrors[^1], StringComparison.Ordinal);
    }

    /// <summary>
    /// From 127.0.0.5 through <paramref name="frontend"/>: reads the greeting (it must name 127.0.0.5), sends one
    /// message, half-closes, reads to the server's close; returns the client's own port.
    /// </summary>
    private static async Task<int> TalkThroughAsync(IPEndPoint frontend, string message, string balancerOutput)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(s_client, 0));
        using var cts = new CancellationTokenSource(s_wait);
        await socket.ConnectAsync(frontend, cts.Token);
        int port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        var received = new List<byte>();
        var buffer = new byte[256];
        while (!received.Contains(0))
        {
            int n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            Assert.True(n > 0, $"closed after [{Encoding.ASCII.GetString([.. received])}] without a whole greeting. {balancerOutput}");
            received.AddRange(buffer.AsSpan(0, n));
        }

        Assert.Equal("Welcome 127.0.0.5!\0", Encoding.ASCII.GetString([.. received]));
        await socket.SendAsync(Encoding.ASCII.GetBytes(message + "\0"), SocketFlags.None, cts.Token);
        socket.Shutdown(SocketShutdown.Send);
        while (await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) > 0)
        {
        }

        return port;
    }

    /// <summary>Checks serve's output line, stops it, and returns the message's journal record (<c>tcptalk messages --json</c>) after checking its client.</summary>
    private async Task<JsonElement> StopAndReadRecordAsync(ServeProcess server, int port, string message)
    {
        string client = "127.0.0.5:" + port.ToString(CultureInfo.InvariantCulture);
        string line = await server.Process.WaitForLineAsync(l => l.EndsWith(" " + message, StringComparison.Ordinal), timeout: s_wait);
        Assert.Equal(client, line.Split(' ')[1]);
        Assert.Equal(0, await server.StopAsync());

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--json"]);
        Assert.True(code == 0, string.Join("\n", stderr));
        using var parsed = JsonDocument.Parse(Assert.Single(stdout, l => l.Contains(message, StringComparison.Ordinal)));
        var record = parsed.RootElement.Clone();
        Assert.Equal("127.0.0.5", record.GetProperty("client_address").GetString());
        Assert.Equal(port, record.GetProperty("client_port").GetInt32());
        return record;
    }
}
