using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Server.Tests;

/// <summary>The server as a library, over real loopback sockets.</summary>
public class TalkServerTests
{
    private static TalkServerOptions OnLoopback(Action<TalkServerOptions>? configure = null)
    {
        var options = new TalkServerOptions();
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        configure?.Invoke(options);
        return options;
    }

    private static async Task<Socket> ConnectAsync(TalkServer server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.BoundEndpoints[0]);
        return socket;
    }

    [Fact]
    public async Task MessagesArriveAsAsyncEnumerableWithTheirConnectionAndTime()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var sink = new ChannelMessageSink();
        await using var server = new TalkServer(OnLoopback(o => o.TimeProvider = clock), sink);
        await server.StartAsync();

        using var client = await ConnectAsync(server);
        await client.SendAsync("a\0bc\0"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(client));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = new List<ReceivedMessage>();
        await foreach (var message in sink.ReadAllAsync(cts.Token))
        {
            received.Add(message);
            if (received.Count == 2)
            {
                break;
            }
        }

        Assert.Equal(["a", "bc"], received.Select(m => m.Text));
        Assert.All(received, m => Assert.Equal(clock.GetUtcNow(), m.ReceivedAt));
        var connection = received[0].Connection;
        Assert.Equal(1, connection.Id);
        Assert.Equal(IPAddress.Loopback, connection.RemoteAddress);
        Assert.Equal(((IPEndPoint)client.LocalEndPoint!).Port, connection.RemotePort);
        Assert.Equal(server.BoundEndpoints[0].Port, connection.LocalPort);
        Assert.Equal($"tcp 127.0.0.1:{connection.LocalPort} <- 127.0.0.1:{connection.RemotePort}", connection.ToString());
    }

    [Fact]
    public async Task StartOnATakenPortThrowsAddressInUse()
    {
        await using var first = new TalkServer(OnLoopback(), MessageSinks.None);
        await first.StartAsync();
        var options = new TalkServerOptions();
        options.Listen.Add(first.BoundEndpoints[0]);
        await using var second = new TalkServer(options, MessageSinks.None);

        var error = await Assert.ThrowsAsync<AddressInUseException>(() => second.StartAsync());
        Assert.Equal($"address 127.0.0.1:{first.BoundEndpoints[0].Port} is already in use", error.Message);
    }

    [Fact]
    public async Task StopAbortsAConnectionStuckMidMessageAfterTheShutdownTimeout()
    {
        var sink = new ChannelMessageSink();
        var server = new TalkServer(OnLoopback(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(300)), sink);
        await server.StartAsync();
        using var stuck = await ConnectAsync(server);
        await stuck.SendAsync("never finished"u8.ToArray());
        await Poll.UntilAsync(() => server.ActiveConnections == 1);

        var stopping = server.StopAsync();
        Assert.False(stopping.IsCompleted);
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, server.ActiveConnections);
        sink.Complete();
        Assert.Empty(await sink.ReadAllAsync().ToListAsync());
        await server.DisposeAsync();
    }

    [Fact]
    public async Task AFailingSinkClosesOnlyThatConnection()
    {
        var delivered = new List<string>();
        var sink = MessageSinks.FromDelegate(m =>
        {
            if (m.Text == "boom")
            {
                throw new InvalidOperationException("sink failed");
            }

            lock (delivered)
            {
                delivered.Add(m.Text);
            }
        });
        await using var server = new TalkServer(OnLoopback(), sink);
        await server.StartAsync();

        using var bad = await ConnectAsync(server);
        await bad.SendAsync("boom\0"u8.ToArray());
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(bad));

        using var good = await ConnectAsync(server);
        await good.SendAsync("fine\0"u8.ToArray());
        good.Shutdown(SocketShutdown.Send);
        await Loopback.ReadAsync(good);
        await Poll.UntilAsync(() => server.ActiveConnections == 0);
        Assert.Equal(["fine"], delivered);
    }

    [Fact]
    public async Task ALongMessageGrowsTheBufferUpToTheLimitAndIsDeliveredWhole()
    {
        var sink = new ChannelMessageSink();
        await using var server = new TalkServer(OnLoopback(o => o.MaxMessageBytes = 200_000), sink);
        await server.StartAsync();
        using var client = await ConnectAsync(server);
        byte[] big = Encoding.ASCII.GetBytes(new string('z', 200_000) + "\0");
        await client.SendAsync(big);
        client.Shutdown(SocketShutdown.Send);
        await Loopback.ReadAsync(client);

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await foreach (var message in sink.ReadAllAsync(cts.Token))
        {
            Assert.Equal(200_000, message.Payload.Length);
            Assert.All(message.Payload, b => Assert.Equal((byte)'z', b));
            break;
        }
    }
}
