using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Load.Tests;

/// <summary>
/// <see cref="BenchOptions.ProxyProtocol"/>: every load connection, on the epoll path (session mode on Linux x64) and
/// the socket path (stream mode) alike, begins with a valid PROXY header naming a client of its own.
/// </summary>
public sealed class ProxyProtocolLoadTests
{
    [Theory]
    [InlineData(BenchMode.Session, 1)]
    [InlineData(BenchMode.Session, 2)]
    [InlineData(BenchMode.Stream, 2)]
    public async Task EachConnectionSendsAHeaderWithADistinctMadeUpClientFirst(BenchMode mode, int version)
    {
        await using var server = new HeaderCheckingServer();
        var options = new BenchOptions
        {
            Host = "127.0.0.1",
            Port = server.Endpoint.Port,
            Mode = mode,
            Connections = 4,
            Duration = null,
            Messages = 40,
            ProxyProtocol = version,
        };

        var result = await new BenchRun(options, new LoadTarget(server.Endpoint, Tls: null)).RunAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(0, result.Errors["total"]);
        int connections = mode == BenchMode.Session ? 40 : 4;
        for (int i = 0; i < 200 && server.Headers.Count < connections; i++)
        {
            await Task.Delay(25); // the last connections' headers may still be parsing
        }

        Assert.All(server.Headers, h => Assert.Equal(version, h.Version));
        Assert.All(server.Headers, h => Assert.Equal(10, h.Source!.Address.GetAddressBytes()[0]));
        Assert.Equal(connections, server.Headers.Select(h => h.Source).Distinct().Count());
        Assert.All(server.Headers, h => Assert.Equal(server.Endpoint, h.Destination));
        Assert.Empty(server.Problems);
    }

    /// <summary>A listener that parses each connection's PROXY header, greets, and reads to the end.</summary>
    private sealed class HeaderCheckingServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;

        public HeaderCheckingServer()
        {
            _listener.Start();
            _accepting = AcceptAsync();
        }

        public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

        public ConcurrentBag<ProxyHeader> Headers { get; } = [];

        public ConcurrentBag<string> Problems { get; } = [];

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                _ = ServeAsync(socket);
            }
        }

        private async Task ServeAsync(Socket socket)
        {
            using var _ = socket;
            var buffer = new byte[8192];
            int have = 0;
            try
            {
                ProxyHeader? header;
                while (!ProxyHeaderParser.Default.TryParse(buffer.AsSpan(0, have), out header))
                {
                    int n = await socket.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None, _stop.Token);
                    if (n == 0)
                    {
                        // The probe of BenchRunner is not made here (the test gives BenchRun its target itself).
                        Problems.Add($"closed after {have} bytes without a header");
                        return;
                    }

                    have += n;
                }

                Headers.Add(header);
                await socket.SendAsync("Welcome!\0"u8.ToArray(), SocketFlags.None, _stop.Token);
                while (await socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token) > 0)
                {
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ProxyHeaderException)
            {
                Problems.Add(e.Message);
            }
        }
    }
}
