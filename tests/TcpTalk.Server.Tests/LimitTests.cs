using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Server.Tests;

/// <summary>Limits against bad peers, with a fake clock so no test sleeps through a timeout.</summary>
public class LimitTests
{
    private static async Task<TalkServer> StartAsync(Action<TalkServerOptions> configure, IMessageSink? sink = null)
    {
        var options = new TalkServerOptions();
        options.Listen.Add(new IPEndPoint(IPAddress.Any, 0));
        configure(options);
        var server = new TalkServer(options, sink ?? MessageSinks.None);
        await server.StartAsync();
        return server;
    }

    private static async Task<Socket> ConnectAsync(TalkServer server, string from = "127.0.0.1", int receiveBuffer = 0)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (receiveBuffer > 0)
        {
            socket.ReceiveBufferSize = receiveBuffer;
        }

        socket.Bind(new IPEndPoint(IPAddress.Parse(from), 0));
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.BoundEndpoints[0].Port));
        return socket;
    }

    [Fact]
    public async Task IdleConnectionIsClosedWithAReasonAfterTheIdleTimeout()
    {
        var clock = new FakeTimeProvider();
        await using var server = await StartAsync(o => { o.TimeProvider = clock; o.IdleTimeout = TimeSpan.FromSeconds(60); });
        using var client = await ConnectAsync(server);
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(client, frames: 1));

        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.True(await Loopback.StaysOpenAsync(client));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("error: no complete message for 1m (idle timeout)\0", await Loopback.ReadAsync(client));
        await Poll.UntilAsync(() => server.ActiveConnections == 0);
    }

    [Fact]
    public async Task SlowlorisMessageIsCutAtTheMessageTimeoutThoughBytesKeepComing()
    {
        var clock = new FakeTimeProvider();
        await using var server = await StartAsync(o => { o.TimeProvider = clock; o.IdleTimeout = TimeSpan.Zero; o.MessageTimeout = TimeSpan.FromSeconds(30); });
        using var client = await ConnectAsync(server);
        await Loopback.ReadAsync(client, frames: 1);

        foreach (char c in "slow")
        {
            await client.SendAsync(new[] { (byte)c });
            await Task.Delay(100); // let the server see the byte before time moves
            clock.Advance(TimeSpan.FromSeconds(9));
        }

        // 36 s have passed since the first byte; on a loaded machine the server may have seen it late, so move on
        // in small steps until it acts (bytes kept coming every 9 s: only the message deadline can end this).
        await Poll.UntilAsync(() =>
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            return server.ActiveConnections == 0;
        });
        Assert.Equal("error: message not completed within 30s of its first byte (message timeout)\0", await Loopback.ReadAsync(client));
    }

    [Fact]
    public async Task ConnectionsPastTheLimitGetABusyLineAndTheCountReturnsAfterwards()
    {
        await using var server = await StartAsync(o => o.MaxConnections = 2);
        using var first = await ConnectAsync(server);
        using var second = await ConnectAsync(server);
        await Loopback.ReadAsync(first, frames: 1);
        await Loopback.ReadAsync(second, frames: 1);

        using (var third = await ConnectAsync(server))
        {
            Assert.Equal("error: server busy: 2 connections open (the limit); try again later\0", await Loopback.ReadAsync(third));
        }

        Assert.Equal(1, server.RejectedConnections);
        Assert.Equal(2, server.ActiveConnections);
        first.Shutdown(SocketShutdown.Send);
        await Loopback.ReadAsync(first);
        await Poll.UntilAsync(() => server.ActiveConnections == 1);
        using var fourth = await ConnectAsync(server);
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(fourth, frames: 1));
    }

    [Fact]
    public async Task PerAddressLimitCountsEachClientAddressSeparately()
    {
        await using var server = await StartAsync(o => o.MaxConnectionsPerAddress = 1);
        using var a1 = await ConnectAsync(server, "127.0.0.1");
        await Loopback.ReadAsync(a1, frames: 1);
        using var a2 = await ConnectAsync(server, "127.0.0.1");
        Assert.Equal("error: too many connections from 127.0.0.1: 1 open (the limit)\0", await Loopback.ReadAsync(a2));
        using var b1 = await ConnectAsync(server, "127.0.0.2");
        Assert.Equal("Welcome 127.0.0.2!\0", await Loopback.ReadAsync(b1, frames: 1));
    }

    [Fact]
    public async Task DeniedAndNotAllowedAddressesAreClosedWithoutAGreeting()
    {
        await using var server = await StartAsync(o =>
        {
            o.Allow.Add(IPNetwork.Parse("127.0.0.0/30"));
            o.Deny.Add(IPNetwork.Parse("127.0.0.2/32"));
        });
        using var allowed = await ConnectAsync(server, "127.0.0.1");
        using var denied = await ConnectAsync(server, "127.0.0.2");
        using var outside = await ConnectAsync(server, "127.0.0.9");

        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(allowed, frames: 1));
        Assert.Equal("", await Loopback.ReadAsync(denied));
        Assert.Equal("", await Loopback.ReadAsync(outside));
        Assert.Equal(2, server.RejectedConnections);
    }

    [Fact]
    public async Task AClientThatNeverReadsIsDisconnectedAtTheWriteTimeout()
    {
        var clock = new FakeTimeProvider();
        await using var journal = new FakeJournal();
        await using var server = await StartAsync(o =>
        {
            o.TimeProvider = clock;
            o.IdleTimeout = TimeSpan.Zero;
            o.MessageTimeout = TimeSpan.Zero;
            o.Journal = journal;
            o.Acknowledge = true;
            o.WriteTimeout = TimeSpan.FromSeconds(30);
        });
        using var client = await ConnectAsync(server, receiveBuffer: 4096);
        client.SendBufferSize = 1 << 20;
        var flood = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("x\0", 1_000_000)));
        var sending = client.SendAsync(flood, SocketFlags.None); // acks pile up unread until the server's send blocks
        await Poll.UntilAsync(() => journal.Stored.Count > 1000);
        await Task.Delay(500);
        Assert.Equal(1, server.ActiveConnections);

        // Move time on until the server's send has been blocked for longer than the write timeout (on a busy
        // machine the server may still be working through the flood when time first moves).
        await Poll.UntilAsync(() =>
        {
            clock.Advance(TimeSpan.FromSeconds(31));
            return server.ActiveConnections == 0;
        }, TimeSpan.FromSeconds(30));
        try
        {
            await sending.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (SocketException)
        {
            // the server closed while the flood was still being sent
        }
    }

    [Fact]
    public async Task AMessageStreamedPastTheLimitWithoutATerminatorIsCutAtTheLimitAndNothingIsStored()
    {
        await using var journal = new FakeJournal();
        await using var server = await StartAsync(o => { o.MaxMessageBytes = 64 * 1024; o.Journal = journal; });
        using var client = await ConnectAsync(server);
        await Loopback.ReadAsync(client, frames: 1);

        // 10 MiB without a terminator: the server refuses once 64 KiB are passed (it reads and discards the rest
        // for a moment so that the error line is not destroyed by a reset) and closes; nothing is buffered or stored.
        var chunk = new byte[64 * 1024];
        chunk.AsSpan().Fill((byte)'x');
        var streaming = Task.Run(async () =>
        {
            try
            {
                for (int i = 0; i < 160; i++)
                {
                    await client.SendAsync(chunk, SocketFlags.None);
                }
            }
            catch (SocketException)
            {
                // closed by the server while more was on the way
            }
        });
        string reply = await Loopback.ReadAsync(client);
        Assert.StartsWith("error: message longer than 65536 bytes (the limit); it starts \"xxxxxxxx", reply, StringComparison.Ordinal);
        Assert.EndsWith("\0", reply, StringComparison.Ordinal);
        await streaming.WaitAsync(TimeSpan.FromSeconds(10));
        await Poll.UntilAsync(() => server.ActiveConnections == 0);
        Assert.Empty(journal.Stored);
    }

    [Fact]
    public async Task AClientResetMidMessageLeavesNoPartialRecord()
    {
        await using var journal = new FakeJournal();
        var log = new CapturedLog();
        var options = new TalkServerOptions { Journal = journal };
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        await using var server = new TalkServer(options, MessageSinks.None, log);
        await server.StartAsync();
        using var client = await ConnectAsync(server);
        await Loopback.ReadAsync(client, frames: 1);

        await client.SendAsync("whole\0half a mess"u8.ToArray());
        await Poll.UntilAsync(() => journal.Stored.Count == 1); // the server has read past "whole"
        client.LingerState = new LingerOption(true, 0);
        client.Close(); // RST instead of FIN: the tail is a cut-off message, not a last one

        await Poll.UntilAsync(() => server.ActiveConnections == 0);
        Assert.Equal(["whole"], journal.Stored);
        Assert.Contains(log.Entries, e => e.Message.EndsWith("1 message(s), 17 byte(s) received; peer reset", StringComparison.Ordinal));
    }
}
