using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace TcpTalk.Client.Tests;

/// <summary>What the server sends after the greeting, as the client sees it while it sends: frames, close, reset.</summary>
public class ServerFrameTests
{
    [Fact]
    public async Task EachFrameIsReportedAsItArrives()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var mayClose = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            Assert.Equal(Wire.Bytes("a\0"), await connection.ReadExactlyAsync(2));
            await connection.SendAsync("ack 7\0hello from the future\0");
            await mayClose.Task.Bounded();
            await connection.SendAsync("error: no complete message for 60 s (idle timeout)\0");
        });

        var frames = new BlockingCollection<ServerFrame>();
        await using var client = await Connect(listener, new TalkClientOptions { OnServerFrame = frames.Add });
        await client.SendAsync("a").Bounded();

        Assert.True(frames.TryTake(out var ack, Bounds.Step));
        Assert.Equal(new ServerFrame(ServerFrameKind.Acknowledgement, "ack 7", 7), ack);
        Assert.True(frames.TryTake(out var other, Bounds.Step));
        Assert.Equal(new ServerFrame(ServerFrameKind.Other, "hello from the future", 0), other);
        Assert.False(client.ServerClosed.IsCompleted);

        mayClose.SetResult();
        Assert.True(frames.TryTake(out var error, Bounds.Step));
        Assert.Equal(new ServerFrame(ServerFrameKind.Error, "no complete message for 60 s (idle timeout)", 0), error);
        await client.ServerClosed.Bounded();
        await server.Bounded();
        Assert.Equal([7L], client.AcknowledgedIds);
    }

    [Fact]
    public async Task ServerClosedCompletesWhenTheServerClosesWhileTheClientIsIdle()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(connection => connection.SendAsync("hi\0"));

        await using var client = await Connect(listener);
        await server.Bounded();
        await client.ServerClosed.Bounded();

        var error = await Assert.ThrowsAsync<ServerClosedException>(() => client.SendAsync("typed later")).Bounded();
        Assert.Equal("server closed the connection after 0 message(s); message 1 was not sent", error.Message);
    }

    [Fact]
    public async Task AResetSeenWhileIdleIsRethrownWithTheStackTraceOfWhereItWasSeen()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var mayReset = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            await mayReset.Task.Bounded();
            connection.LingerState = new LingerOption(true, 0); // close = reset
            connection.Close();
        });

        await using var client = await Connect(listener);
        mayReset.SetResult();
        await server.Bounded();
        await client.ServerClosed.Bounded();

        var error = await Assert.ThrowsAsync<ServerClosedException>(() => client.SendAsync("late")).Bounded();
        Assert.StartsWith("server reset the connection", error.Message, StringComparison.Ordinal);
        // Rethrown with ExceptionDispatchInfo: the trace still shows the reader that saw the reset, not only SendAsync.
        Assert.Contains("ReadServerFramesAsync", error.StackTrace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerThatClosesWithoutAcknowledgingIsSaidToHaveClosedNotToHaveRunOutOfTime()
    {
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            await connection.ReadToEndAsync(); // a server without acknowledgements: reads everything, closes
        });

        var options = new TalkClientOptions { RequireAcknowledgements = true, AckTimeout = TimeSpan.FromSeconds(30) };
        await using var client = await Connect(listener, options);
        await client.SendAsync("one").Bounded();
        await client.SendAsync("two").Bounded();
        var took = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<NotAcknowledgedException>(() => client.CompleteAsync()).Bounded();

        Assert.True(took.Elapsed < TimeSpan.FromSeconds(10), $"took {took.Elapsed}");
        Assert.Equal("server closed the connection without acknowledging 2 of 2 message(s) (does it acknowledge? tcptalk serve does with --ack); they may not be stored", error.Message);
        Assert.Equal(2, error.Sent);
        Assert.Empty(error.Acknowledged);
        await server.Bounded();
    }

    [Fact]
    public async Task MessagesSentIsCountedExactlyWhileTheWatcherReadsIt()
    {
        // Many sends while acks stream back: every increment is seen, the count ends exact, every ack is kept.
        const int Count = 2000;
        using var listener = TestListener.Start(IPAddress.Loopback);
        var server = listener.ServeOneAsync(async connection =>
        {
            await connection.SendAsync("hi\0");
            for (int i = 1; i <= Count; i++)
            {
                Assert.Equal(Wire.Bytes("m\0"), await connection.ReadExactlyAsync(2));
                await connection.SendAsync($"ack {i}\0");
            }

            await connection.ReadToEndAsync();
        });

        await using var client = await Connect(listener, new TalkClientOptions { RequireAcknowledgements = true });
        for (int i = 0; i < Count; i++)
        {
            await client.SendAsync("m").Bounded();
        }

        await client.CompleteAsync().Bounded();
        Assert.Equal(Count, client.MessagesSent);
        Assert.Equal(Enumerable.Range(1, Count).Select(i => (long)i), client.AcknowledgedIds);
        await server.Bounded();
    }

    private static Task<TalkClient> Connect(TestListener listener, TalkClientOptions? options = null) =>
        TalkClient.ConnectAsync("127.0.0.1", listener.Port, options).Bounded();
}
