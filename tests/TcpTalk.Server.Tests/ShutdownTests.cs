using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TcpTalk.Messages;

namespace TcpTalk.Server.Tests;

/// <summary>
/// A stop is bounded: a sink (or journal) that hangs gets the stopping token, and after
/// <see cref="TalkServerOptions.ShutdownTimeout"/> (or the caller's token) the stop aborts and returns.
/// </summary>
public class ShutdownTests
{
    private static TalkServerOptions OnLoopback(TimeSpan shutdownTimeout)
    {
        var options = new TalkServerOptions { ShutdownTimeout = shutdownTimeout };
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        return options;
    }

    /// <summary>Connects, reads the greeting, sends one message, and waits until the sink holds it.</summary>
    private static async Task<Socket> SendOneAsync(TalkServer server, HangingSink sink)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(server.BoundEndpoints[0]);
        await Loopback.ReadAsync(client, frames: 1);
        await client.SendAsync("stuck\0"u8.ToArray());
        await sink.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return client;
    }

    [Fact]
    public async Task AHungSinkGetsTheStoppingTokenAndTheStopEndsAfterTheShutdownTimeout()
    {
        var sink = new HangingSink(honoursToken: true);
        var log = new CapturedLog();
        var server = new TalkServer(OnLoopback(TimeSpan.FromMilliseconds(200)), sink, log);
        await server.StartAsync();
        using var client = await SendOneAsync(server, sink);
        Assert.False(sink.Token.IsCancellationRequested);

        var watch = Stopwatch.StartNew();
        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(sink.Token.IsCancellationRequested, "the sink's token was not cancelled by the abort");
        Assert.True(sink.Cancelled.Task.IsCompleted);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(5));
        Assert.Equal(0, server.ActiveConnections);
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Message == "Shutdown timeout: aborting 1 connection(s) still mid-message");
        await server.DisposeAsync();
    }

    [Fact]
    public async Task ASinkThatIgnoresItsTokenCannotHoldTheStopLongerThanTheAbortGrace()
    {
        var sink = new HangingSink(honoursToken: false);
        var log = new CapturedLog();
        var server = new TalkServer(OnLoopback(TimeSpan.FromMilliseconds(200)), sink, log);
        await server.StartAsync();
        using var client = await SendOneAsync(server, sink);

        var watch = Stopwatch.StartNew();
        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(6)); // 200 ms, then the 2 s grace
        Assert.Equal(1, server.ActiveConnections); // still in the sink
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning
                                          && e.Message == "Stopped with 1 connection(s) still running after the abort: their journal or sink ignored its cancellation token");
        sink.Release();
        await Poll.UntilAsync(() => server.ActiveConnections == 0);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task TheCallersTokenCutsTheGracefulWaitShort()
    {
        var sink = new HangingSink(honoursToken: true);
        var server = new TalkServer(OnLoopback(TimeSpan.FromMinutes(10)), sink);
        await server.StartAsync();
        using var client = await SendOneAsync(server, sink);

        using var impatient = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var watch = Stopwatch.StartNew();
        await server.StopAsync(impatient.Token).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the stop took {watch.Elapsed} with a 10 min ShutdownTimeout");
        Assert.True(sink.Token.IsCancellationRequested);
        Assert.Equal(0, server.ActiveConnections);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task AJournalThatHangsGetsTheStoppingTokenToo()
    {
        var journal = new HangingJournal();
        var options = OnLoopback(TimeSpan.FromMilliseconds(200));
        options.Journal = journal;
        var server = new TalkServer(options, MessageSinks.None);
        await server.StartAsync();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(server.BoundEndpoints[0]);
        await Loopback.ReadAsync(client, frames: 1);
        await client.SendAsync("stuck\0"u8.ToArray());
        await journal.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await server.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(journal.Token.IsCancellationRequested);
        Assert.Equal(0, server.ActiveConnections);
        await server.DisposeAsync();
    }

    /// <summary>A sink that never completes on its own: until its token is cancelled, or never.</summary>
    private sealed class HangingSink(bool honoursToken) : IMessageSink
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken Token { get; private set; }

        public void Release() => _release.TrySetResult();

        public async ValueTask OnMessagesAsync(MessageBatch batch, CancellationToken cancellationToken)
        {
            Token = cancellationToken;
            Entered.TrySetResult();
            if (!honoursToken)
            {
                await _release.Task;
                return;
            }

            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                Cancelled.TrySetResult();
            }
        }
    }

    /// <summary>A journal whose append waits until its token is cancelled.</summary>
    private sealed class HangingJournal : IMessageJournal
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationToken Token { get; private set; }

        public bool IsHealthy => true;

        public async ValueTask<long> AppendAsync(MessageBatch batch, CancellationToken cancellationToken)
        {
            Token = cancellationToken;
            Entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 1;
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
