using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using TcpTalk.FunctionalTests.Infrastructure;
using TcpTalk.Protocol;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// The balancer fixtures work end to end, before any TcpTalk server sits behind them: a client bound to 127.0.0.5
/// connects through real haproxy / nginx to a plain capture-and-echo listener, whose first bytes must be a PROXY
/// header naming 127.0.0.5 and the client's port, followed by exactly what the client sent (echoed back to it).
/// haproxy's health checks must arrive too, with their header. Skipped, with the reason, where haproxy or nginx's
/// stream module is not installed.
/// </summary>
public class BalancerFixtureTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(15);
    private static readonly IPAddress s_client = IPAddress.Parse("127.0.0.5");

    [HaproxyTheory]
    [InlineData(ProxyProtocolVersion.V1)]
    [InlineData(ProxyProtocolVersion.V2)]
    public async Task HaproxySendsTheClientsAddressAndHealthChecksWithTheHeader(ProxyProtocolVersion version)
    {
        await using var backend = CaptureBackend.Start();
        await using var haproxy = await HaproxyFixture.StartAsync(backend.Port, version);
        var client = await ConnectThroughAsync(haproxy.Frontend);
        var relayed = await backend.WaitForAsync(c => c.Header?.Source is { } s && s.Address.Equals(s_client), s_wait, haproxy.Output);

        AssertStartsWithHeaderNaming(relayed, client, version);
        if (version == ProxyProtocolVersion.V2)
        {
            // unique-id-format starts with the client's address and port in hex.
            string id = Encoding.ASCII.GetString(relayed.Header!.UniqueId ?? []);
            Assert.StartsWith($"7F000005:{client.Port:X4}_", id, StringComparison.Ordinal);
        }

        // A check comes every 500 ms: LOCAL in v2; in v1 a line naming haproxy's own connection from 127.0.0.1.
        var check = await backend.WaitForAsync(c => c.Header is { } h && (h.Command == ProxyCommand.Local || h.Source?.Address.Equals(IPAddress.Loopback) == true),
            s_wait, haproxy.Output);
        Assert.Equal((int)version, check.Header!.Version);
    }

    [NginxStreamFact]
    public async Task NginxStreamSendsTheClientsAddressInAV1Header()
    {
        await using var backend = CaptureBackend.Start();
        await using var nginx = await NginxStreamFixture.StartAsync(backend.Port);
        var client = await ConnectThroughAsync(nginx.Frontend);
        var relayed = await backend.WaitForAsync(c => c.Header?.Source is { } s && s.Address.Equals(s_client), s_wait, nginx.Output);
        AssertStartsWithHeaderNaming(relayed, client, ProxyProtocolVersion.V1);
    }

    private static readonly byte[] s_payload = "hello through the balancer\0"u8.ToArray();

    /// <summary>Connects from 127.0.0.5, sends the payload, reads it back (the backend echoes), and returns the client's own endpoint.</summary>
    private static async Task<IPEndPoint> ConnectThroughAsync(IPEndPoint frontend)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(s_client, 0));
        using var cts = new CancellationTokenSource(s_wait);
        await socket.ConnectAsync(frontend, cts.Token);
        var local = (IPEndPoint)socket.LocalEndPoint!;
        await socket.SendAsync(s_payload, SocketFlags.None, cts.Token);
        var echoed = new byte[s_payload.Length];
        int read = 0;
        while (read < echoed.Length)
        {
            int n = await socket.ReceiveAsync(echoed.AsMemory(read), SocketFlags.None, cts.Token);
            Assert.True(n > 0, $"the balancer closed after {read} echoed bytes");
            read += n;
        }

        Assert.Equal(s_payload, echoed);
        return local;
    }

    private static void AssertStartsWithHeaderNaming(CapturedConnection relayed, IPEndPoint client, ProxyProtocolVersion version)
    {
        var header = relayed.Header!;
        Assert.Equal((int)version, header.Version);
        Assert.Equal(client, header.Source);
        byte[] expectedStart = version == ProxyProtocolVersion.V1
            ? Encoding.ASCII.GetBytes($"PROXY TCP4 127.0.0.5 127.0.0.1 {client.Port.ToString(CultureInfo.InvariantCulture)} ")
            : [.. ProxyHeaderParser.V2Signature, 0x21, 0x11];
        Assert.True(relayed.Bytes.AsSpan().StartsWith(expectedStart), $"the backend's first bytes: {Convert.ToHexString(relayed.Bytes)}");
        if (version == ProxyProtocolVersion.V2)
        {
            Assert.Equal([127, 0, 0, 5], relayed.Bytes[16..20]);
        }

        Assert.Equal(s_payload, relayed.Bytes[header.Length..]);
    }

    /// <summary>One connection the backend accepted: the bytes it read (until the payload or the close) and the header in them.</summary>
    private sealed record CapturedConnection(byte[] Bytes, ProxyHeader? Header);

    /// <summary>
    /// A plain TCP listener on 127.0.0.1: for each connection, reads the PROXY header (with TcpTalk's parser) and
    /// echoes what follows it; reports each connection once its header and payload, or its end, arrived.
    /// </summary>
    private sealed class CaptureBackend : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Channel<CapturedConnection> _captured = Channel.CreateUnbounded<CapturedConnection>();
        private readonly List<Task> _tasks = [];
        private readonly Task _accepting;

        private CaptureBackend()
        {
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static CaptureBackend Start() => new();

        /// <summary>The first connection (arrived or arriving) that matches; fails with the balancer's output after <paramref name="timeout"/>.</summary>
        public async Task<CapturedConnection> WaitForAsync(Func<CapturedConnection, bool> match, TimeSpan timeout, string balancerOutput)
        {
            using var cts = new CancellationTokenSource(timeout);
            var seen = new List<string>();
            try
            {
                while (true)
                {
                    var connection = await _captured.Reader.ReadAsync(cts.Token);
                    if (match(connection))
                    {
                        return connection;
                    }

                    seen.Add(connection.Header?.ToString() ?? Convert.ToHexString(connection.Bytes));
                }
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no matching connection within {timeout.TotalSeconds} s; saw [{string.Join(" | ", seen)}]. {balancerOutput}");
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _accepting.WaitAsync(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }

            Task[] handlers;
            lock (_tasks)
            {
                handlers = [.. _tasks];
            }

            await Task.WhenAll(handlers).WaitAsync(TimeSpan.FromSeconds(10));
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                lock (_tasks)
                {
                    _tasks.Add(HandleAsync(socket));
                }
            }
        }

        private async Task HandleAsync(Socket socket)
        {
            using var _ = socket;
            var received = new List<byte>();
            ProxyHeader? header = null;
            bool reported = false;
            var buffer = new byte[4096];
            try
            {
                while (true)
                {
                    int n = await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    if (n == 0)
                    {
                        break;
                    }

                    received.AddRange(buffer.AsSpan(0, n));
                    if (header is null)
                    {
                        var sequence = new ReadOnlySequence<byte>([.. received]);
                        if (!ProxyHeaderParser.Default.TryParse(ref sequence, out header))
                        {
                            continue;
                        }

                        await socket.SendAsync(sequence.ToArray(), SocketFlags.None, _stop.Token);
                    }
                    else
                    {
                        await socket.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
                    }

                    if (!reported && received.Count - header.Length >= s_payload.Length)
                    {
                        reported = _captured.Writer.TryWrite(new CapturedConnection([.. received], header));
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ProxyHeaderException)
            {
                // Shutdown, a reset (health checks close abruptly), or a bad header: reported below as what arrived.
            }

            if (!reported)
            {
                _captured.Writer.TryWrite(new CapturedConnection([.. received], header));
            }
        }
    }
}
