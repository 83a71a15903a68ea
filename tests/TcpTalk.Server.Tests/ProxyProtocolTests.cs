using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Server.Tests;

/// <summary>
/// <see cref="TalkServerOptions.TrustedProxies"/>: connections from a trusted network begin with a PROXY header whose
/// client is then the connection's everywhere; over real loopback sockets, the clock fake so no test waits out a timeout.
/// </summary>
public sealed class ProxyProtocolTests : IDisposable
{
    private static readonly IPEndPoint s_client = new(IPAddress.Parse("10.1.2.3"), 40112);
    private static readonly IPEndPoint s_frontend = new(IPAddress.Parse("192.0.2.7"), 12345);

    private readonly TestMeterFactory _meters = new();
    private readonly MeterListener _listener = new();
    private readonly List<string> _rejected = [];
    private readonly FakeTimeProvider _clock = new();
    private readonly CapturedLog _log = new();

    public ProxyProtocolTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.Created.Contains(instrument.Meter) && instrument.Name == "tcptalk.server.proxy_header_rejected")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            lock (_rejected)
            {
                _rejected.Add((string)tags.ToArray().Single(t => t.Key == "reason").Value!);
            }
        });
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _meters.Dispose();
    }

    private string[] Rejected
    {
        get
        {
            lock (_rejected)
            {
                return [.. _rejected];
            }
        }
    }

    private async Task<TalkServer> StartAsync(Action<TalkServerOptions>? configure = null, IMessageSink? sink = null, string trusted = "127.0.0.0/8")
    {
        var options = new TalkServerOptions { TimeProvider = _clock, MeterFactory = _meters };
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        options.TrustedProxies.Add(System.Net.IPNetwork.Parse(trusted));
        configure?.Invoke(options);
        var server = new TalkServer(options, sink ?? MessageSinks.None, _log);
        await server.StartAsync();
        return server;
    }

    private static async Task<Socket> ConnectAsync(TalkServer server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.BoundEndpoints[0]);
        return socket;
    }

    private static byte[] Header(int version, IPEndPoint? source = null, string uniqueId = "")
    {
        var buffer = new byte[ProxyHeaderWriter.MaxBytes];
        int length = ProxyHeaderWriter.Write(version, source ?? s_client, s_frontend, buffer, Encoding.ASCII.GetBytes(uniqueId));
        return buffer[..length];
    }

    private static byte[] Concat(byte[] first, ReadOnlySpan<byte> second) => [.. first, .. second];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task TheHeadersClientIsTheConnectionsInTheGreetingAndEveryBatch(int version)
    {
        var sink = new ChannelMessageSink();
        await using var server = await StartAsync(sink: sink);
        using var balancer = await ConnectAsync(server);
        string uniqueId = version == 2 ? "req-42" : "";
        await balancer.SendAsync(Concat(Header(version, uniqueId: uniqueId), "hello\0"u8));

        Assert.Equal("Welcome 10.1.2.3!\0", await Loopback.ReadAsync(balancer, frames: 1));
        balancer.Shutdown(SocketShutdown.Send);
        Assert.Equal("", await Loopback.ReadAsync(balancer));
        var message = await sink.ReadAllAsync().FirstAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("hello", message.Text);
        Assert.Equal("10.1.2.3:40112", message.Connection.Remote);
        Assert.Equal("192.0.2.7:12345", message.Connection.Local);
        Assert.Equal(version == 2 ? "req-42" : null, message.Connection.UniqueId is { } id ? Encoding.ASCII.GetString(id) : null);
        Assert.Empty(Rejected);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task AHeaderSplitAtAnyByteIsReadAndNotAByteOfTheMessageAfterItIsLost(int version)
    {
        var sink = new ChannelMessageSink();
        await using var server = await StartAsync(sink: sink);
        byte[] header = Header(version, uniqueId: version == 2 ? "abc" : "");
        byte[] stream = [.. header, .. "first\0second\0"u8];
        for (int split = 1; split < header.Length + 3; split++)
        {
            using var balancer = await ConnectAsync(server);
            await balancer.SendAsync(stream.AsMemory(0, split));
            await Task.Delay(15); // the server sees the first part alone
            await balancer.SendAsync(stream.AsMemory(split));
            Assert.Equal("Welcome 10.1.2.3!\0", await Loopback.ReadAsync(balancer, frames: 1));
            balancer.Shutdown(SocketShutdown.Send);
            Assert.Equal("", await Loopback.ReadAsync(balancer));
        }

        var texts = await sink.ReadAllAsync().Take(2 * (header.Length + 2)).Select(m => m.Text).ToListAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.All(texts.Chunk(2), pair => Assert.Equal(["first", "second"], pair));
        Assert.Empty(Rejected);
    }

    [Fact]
    public async Task AHeaderNotCompleteWithinTheTimeoutClosesTheConnectionWithoutAGreeting()
    {
        await using var server = await StartAsync(o => o.ProxyHeaderTimeout = TimeSpan.FromSeconds(5));
        using var balancer = await ConnectAsync(server);
        await balancer.SendAsync(Header(2)[..10]);
        await Task.Delay(50);
        _clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.True(await Loopback.StaysOpenAsync(balancer));

        _clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal("", await Loopback.ReadAsync(balancer));
        await Poll.UntilAsync(() => server.ActiveConnections == 0);
        Assert.Equal(["timeout"], Rejected);
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Warning
            && e.Message.Contains("closed without a greeting: no complete PROXY header within 5s (proxy header timeout)", StringComparison.Ordinal));
    }

    public static TheoryData<string, string> BadStarts => new()
    {
        { "hello\0", "not_proxy_header" },
        { "PROXY TCP4 10.1.2.3\r\n", "v1_malformed" },
        { "PROXY UNKNOWN " + new string('x', 100), "v1_too_long" },
        { "\r\n\r\n\0\r\nQUIT\n\u0031\u0011\0\u000c", "v2_bad_version" },
        { "PROXY TCP4 10.1", "closed" },
        { "", "closed" },
    };

    [Theory]
    [MemberData(nameof(BadStarts))]
    public async Task AConnectionWithoutAValidHeaderIsClosedWithoutAGreetingAndCountedByReason(string start, string reason)
    {
        await using var server = await StartAsync();
        using var balancer = await ConnectAsync(server);
        await balancer.SendAsync(Encoding.Latin1.GetBytes(start));
        if (reason == "closed")
        {
            balancer.Shutdown(SocketShutdown.Send);
        }

        Assert.Equal("", await Loopback.ReadAsync(balancer));
        await Poll.UntilAsync(() => Rejected.Length == 1);
        Assert.Equal([reason], Rejected);
        Assert.Equal(0, server.RejectedConnections); // a header refusal is its own count, not an admission's
        await Poll.UntilAsync(() => server.ActiveConnections == 0);
    }

    [Fact]
    public async Task RefusedHeadersAreLoggedAtMostOnceASecondWithTheCount()
    {
        await using var server = await StartAsync();
        for (int i = 0; i < 3; i++)
        {
            using var balancer = await ConnectAsync(server);
            await balancer.SendAsync("nope\0"u8.ToArray());
            Assert.Equal("", await Loopback.ReadAsync(balancer));
        }

        await Poll.UntilAsync(() => Rejected.Length == 3);
        _clock.Advance(TimeSpan.FromSeconds(1));
        using (var last = await ConnectAsync(server))
        {
            await last.SendAsync("nope\0"u8.ToArray());
            Assert.Equal("", await Loopback.ReadAsync(last));
        }

        await Poll.UntilAsync(() => Rejected.Length == 4);
        var lines = _log.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();
        Assert.Equal(2, lines.Count);
        Assert.EndsWith("(1 PROXY header(s) refused since the last such line)", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("(3 PROXY header(s) refused since the last such line)", lines[1], StringComparison.Ordinal);
        Assert.Contains("from trusted proxy 127.0.0.1:", lines[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("v2 LOCAL")]
    [InlineData("PROXY UNKNOWN\r\n")]
    [InlineData("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n")]
    public async Task AHealthCheckHeaderIsServedWithTheSocketsOwnEndpoints(string header)
    {
        var sink = new ChannelMessageSink();
        await using var server = await StartAsync(sink: sink);
        using var balancer = await ConnectAsync(server);
        byte[] bytes = header == "v2 LOCAL" ? ProxyHeaderWriter.V2Local() : Encoding.ASCII.GetBytes(header);
        await balancer.SendAsync(Concat(bytes, "check\0"u8));
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(balancer, frames: 1));
        balancer.Shutdown(SocketShutdown.Send);
        Assert.Equal("", await Loopback.ReadAsync(balancer));
        var message = await sink.ReadAllAsync().FirstAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(((IPEndPoint)balancer.LocalEndPoint!).Port, message.Connection.RemotePort);
        Assert.Equal("check", message.Text);
    }

    [Fact]
    public async Task APeerOutsideTheTrustedNetworksIsServedAsBeforeAndItsHeaderIsJustMessageBytes()
    {
        var sink = new ChannelMessageSink();
        await using var server = await StartAsync(sink: sink, trusted: "10.0.0.0/8");
        using var client = await ConnectAsync(server);
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(client, frames: 1));
        await client.SendAsync(Concat(Header(1), "hello\0"u8));
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal("", await Loopback.ReadAsync(client));
        var message = await sink.ReadAllAsync().FirstAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("PROXY TCP4 10.1.2.3 192.0.2.7 40112 12345\r\nhello", message.Text);
        Assert.Equal(IPAddress.Loopback, message.Connection.RemoteAddress);
    }

    [Fact]
    public async Task PerAddressLimitsCountTheClientsTheHeadersNameNotTheBalancer()
    {
        await using var server = await StartAsync(o => o.MaxConnectionsPerAddress = 1);
        var other = new IPEndPoint(IPAddress.Parse("10.9.9.9"), 1000);
        using var first = await ConnectAsync(server);
        await first.SendAsync(Header(2));
        Assert.Equal("Welcome 10.1.2.3!\0", await Loopback.ReadAsync(first, frames: 1));
        using (var second = await ConnectAsync(server))
        {
            // The same balancer address, another client: served.
            await second.SendAsync(Header(2, other));
            Assert.Equal("Welcome 10.9.9.9!\0", await Loopback.ReadAsync(second, frames: 1));

            // The first client again: its one slot is taken.
            using var again = await ConnectAsync(server);
            await again.SendAsync(Header(1));
            Assert.Equal("error: too many connections from 10.1.2.3: 1 open (the limit)\0", await Loopback.ReadAsync(again));
        }

        await Poll.UntilAsync(() => server.ActiveConnections == 1);
        using var third = await ConnectAsync(server);
        await third.SendAsync(Header(2, other));
        Assert.Equal("Welcome 10.9.9.9!\0", await Loopback.ReadAsync(third, frames: 1));
        Assert.Equal(1, server.RejectedConnections);
    }

    [Fact]
    public async Task DenyAppliesToTheClientTheHeaderNames()
    {
        await using var server = await StartAsync(o => o.Deny.Add(System.Net.IPNetwork.Parse("10.1.0.0/16")));
        using var denied = await ConnectAsync(server);
        await denied.SendAsync(Header(2));
        Assert.Equal("", await Loopback.ReadAsync(denied));

        using var served = await ConnectAsync(server);
        await served.SendAsync(Header(2, new IPEndPoint(IPAddress.Parse("10.2.0.1"), 5)));
        Assert.Equal("Welcome 10.2.0.1!\0", await Loopback.ReadAsync(served, frames: 1));
        Assert.Equal(1, server.RejectedConnections);
        // Logged right after the socket is closed: the line may come a moment after the client saw the close.
        await Poll.UntilAsync(() => _log.Entries.Any(e => e.Message.StartsWith("Refused a connection from 10.1.2.3:40112: address denied", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task WithTlsTheHeaderComesBeforeTheHandshakeAsBalancersSendIt(int version)
    {
        using var ca = TestCertificates.CreateCa();
        using var certificate = TestCertificates.IssueServer(ca);
        var sink = new ChannelMessageSink();
        await using var server = await StartAsync(o => o.Tls = new ServerTlsOptions { Certificate = certificate }, sink);
        var tls = new TcpTalk.Client.ClientTlsOptions();
        tls.CertificateAuthorities.Add(ca);
        var options = new TcpTalk.Client.TalkClientOptions { Tls = tls, Preamble = Header(version) };
        await using (var client = await TcpTalk.Client.TalkClient.ConnectAsync("localhost", server.BoundEndpoints[0].Port, options).WaitAsync(TimeSpan.FromSeconds(10)))
        {
            Assert.Equal("Welcome 10.1.2.3!", client.Greeting);
            await client.SendAsync("over tls");
            await client.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        var message = await sink.ReadAllAsync().FirstAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("over tls", message.Text);
        Assert.Equal("10.1.2.3:40112", message.Connection.Remote);
    }

    [Fact]
    public void ProxyHeaderTimeoutDefaultIsFiveSecondsAndZeroIsRefused()
    {
        Assert.Equal(TimeSpan.FromSeconds(5), new TalkServerOptions().ProxyHeaderTimeout);
        Assert.Empty(new TalkServerOptions().TrustedProxies);
        Assert.Contains("ProxyHeaderTimeout", Assert.Single(new TalkServerOptions { ProxyHeaderTimeout = TimeSpan.Zero }.FindProblems()).Message, StringComparison.Ordinal);
        Assert.Empty(new TalkServerOptions { ProxyHeaderTimeout = TimeSpan.FromHours(1) }.FindProblems());
        Assert.Single(new TalkServerOptions { ProxyHeaderTimeout = TimeSpan.FromHours(1) + TimeSpan.FromTicks(1) }.FindProblems());
    }
}
