using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Client;

namespace TcpTalk.Spool.Tests;

/// <summary>The reconnecting sender against the real server (<c>--ack</c>, real journal) over loopback.</summary>
public sealed class ReconnectingSenderTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);
    private readonly TempDirectory _temp = new();
    private readonly ConcurrentQueue<SendRetry> _retries = new();

    public void Dispose() => _temp.Dispose();

    private string Journal => Path.Combine(_temp.Path, "server.db");

    private static ReadOnlyMemory<byte>[] Numbered(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes($"line {i}"))];

    private ReconnectingSenderOptions Options(Action<ReconnectingSenderOptions>? change = null)
    {
        var options = new ReconnectingSenderOptions
        {
            InitialRetryDelay = TimeSpan.FromMilliseconds(20),
            MaxRetryDelay = TimeSpan.FromMilliseconds(200),
            Client = new TalkClientOptions { ConnectTimeout = TimeSpan.FromSeconds(2), AckTimeout = TimeSpan.FromSeconds(5) },
            OnRetry = _retries.Enqueue,
        };
        change?.Invoke(options);
        return options;
    }

    [Fact]
    public async Task EverythingAppendedIsDeliveredOnceAndTheSpoolEmpties()
    {
        await using var server = await AckingServer.StartAsync(Journal);
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var sender = new ReconnectingSender("127.0.0.1", server.Port, spool, Options());
        var run = sender.RunAsync();
        await sender.AppendAsync(Numbered(1, 300));
        await sender.AppendAsync(Numbered(301, 200));
        sender.CompleteAdding();
        await run.WaitAsync(Bound);
        await server.StopAsync();

        Assert.Equal(Enumerable.Range(1, 500).Select(i => $"line {i}"), await server.StoredAsync());
        Assert.Equal((500L, 0L, 1), (sender.Delivered, spool.Backlog.Messages, sender.Connections));
        Assert.Empty(_retries);
    }

    [Fact]
    public async Task AServerStartedLaterGetsEverythingSpooledWhileItWasDown()
    {
        await using var server = AckingServer.NotStarted(Journal);
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var sender = new ReconnectingSender("127.0.0.1", server.Port, spool, Options());
        var run = sender.RunAsync();
        await sender.AppendAsync(Numbered(1, 50));
        sender.CompleteAdding();
        await Poll.UntilAsync(() => _retries.Count >= 3);
        Assert.All(_retries, r => Assert.IsType<ConnectFailedException>(r.Error));
        Assert.Equal(50, _retries.Last().Backlog.Messages);

        await server.StartAsync();
        await run.WaitAsync(Bound);
        await server.StopAsync();
        Assert.Equal(Enumerable.Range(1, 50).Select(i => $"line {i}"), await server.StoredAsync());
        Assert.True(sender.LongestOutage > TimeSpan.Zero);
    }

    [Fact]
    public async Task AServerStoppedMidStreamAndRestartedGetsEverythingAtLeastOnceInOrder()
    {
        await using var server = await AckingServer.StartAsync(Journal);
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var sender = new ReconnectingSender("127.0.0.1", server.Port, spool, Options());
        var run = sender.RunAsync();
        for (int round = 0; round < 3; round++)
        {
            await sender.AppendAsync(Numbered(round * 100 + 1, 100));
            await Poll.UntilAsync(() => sender.Connections > round && sender.Delivered > round * 100); // this life of the server took some
            await server.StopAsync();                 // while the rest of the round may be in flight
            await sender.AppendAsync(Numbered(1000 + round, 1)); // spooled while the server is down
            await server.StartAsync();
        }

        sender.CompleteAdding();
        await run.WaitAsync(Bound);
        await server.StopAsync();

        var stored = await server.StoredAsync();
        var expected = Enumerable.Range(1, 300).Select(i => $"line {i}").Concat(Enumerable.Range(1000, 3).Select(i => $"line {i}")).ToList();
        Assert.Empty(expected.Except(stored));
        Assert.True(sender.Connections >= 4, $"{sender.Connections} connection(s)");
        Assert.Equal(0, spool.Backlog.Messages);
    }

    [Fact]
    public async Task ABusyServerIsRetriedUntilItHasRoom()
    {
        await using var server = await AckingServer.StartAsync(Journal, o => o.MaxConnections = 1);
        using var occupier = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await occupier.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
        var greeting = new byte[64];
        Assert.True(await occupier.ReceiveAsync(greeting) > 0); // the one connection the server takes

        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var sender = new ReconnectingSender("127.0.0.1", server.Port, spool, Options());
        var run = sender.RunAsync();
        await sender.AppendAsync(Numbered(1, 3));
        sender.CompleteAdding();
        await Poll.UntilAsync(() => _retries.Count >= 2);
        var busy = Assert.IsType<ServerErrorException>(_retries.First().Error);
        Assert.StartsWith("server busy", busy.ServerMessage);

        occupier.Close();
        await run.WaitAsync(Bound);
        await server.StopAsync();
        Assert.Equal(["line 1", "line 2", "line 3"], await server.StoredAsync());
    }

    [Fact]
    public async Task AMessageTooLongForTheServerStopsAtOnceAndStaysSpooled()
    {
        await using var server = await AckingServer.StartAsync(Journal, o => o.MaxMessageBytes = 10);
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var sender = new ReconnectingSender("127.0.0.1", server.Port, spool, Options());
        var run = sender.RunAsync();
        await sender.AppendAsync([Encoding.UTF8.GetBytes("longer than ten bytes")]);
        sender.CompleteAdding();

        var refused = await Assert.ThrowsAsync<ServerErrorException>(() => run.WaitAsync(Bound));
        Assert.StartsWith("message longer than 10 bytes", refused.ServerMessage);
        Assert.Empty(_retries);
        Assert.Equal(1, spool.Backlog.Messages);
    }

    [Fact]
    public async Task RetryForEndsAnOutageWithItsLastFailure()
    {
        await using var server = AckingServer.NotStarted(Journal);
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var sender = new ReconnectingSender("127.0.0.1", server.Port, spool, Options(o => o.RetryFor = TimeSpan.FromMilliseconds(300)));
        var run = sender.RunAsync();
        await sender.AppendAsync(Numbered(1, 1));

        await Assert.ThrowsAsync<ConnectFailedException>(() => run.WaitAsync(Bound));
        Assert.NotEmpty(_retries);
        Assert.Equal(1, spool.Backlog.Messages);
    }

    [Fact]
    public async Task AppendingWaitsWhileTheSpoolIsFullAndGoesOnOnceTheServerAcknowledges()
    {
        await using var server = AckingServer.NotStarted(Journal);
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var sender = new ReconnectingSender("127.0.0.1", server.Port, spool, Options(o => o.MaxSpoolBytes = 20));
        var run = sender.RunAsync();
        await sender.AppendAsync(Numbered(1, 2));          // 12 bytes
        var blocked = sender.AppendAsync(Numbered(3, 2));  // 12 more would pass 20
        await Task.Delay(300);
        Assert.False(blocked.IsCompleted);
        Assert.Equal(2, spool.Backlog.Messages);

        await server.StartAsync();
        await blocked.WaitAsync(Bound);
        sender.CompleteAdding();
        await run.WaitAsync(Bound);
        await server.StopAsync();
        Assert.Equal(["line 1", "line 2", "line 3", "line 4"], await server.StoredAsync());
    }

    [Fact]
    public async Task WhatAKilledSenderLeftInTheSpoolIsSentByTheNextOne()
    {
        using (var spool = SqliteMessageSpool.Open(_temp.Spool))
        {
            spool.Append(Numbered(1, 5)); // as if the last sender died before the server came back
        }

        await using var server = await AckingServer.StartAsync(Journal);
        using var reopened = SqliteMessageSpool.Open(_temp.Spool);
        var sender = new ReconnectingSender("127.0.0.1", server.Port, reopened, Options());
        var run = sender.RunAsync();
        await sender.AppendAsync(Numbered(6, 1));
        sender.CompleteAdding();
        await run.WaitAsync(Bound);
        await server.StopAsync();
        Assert.Equal(Enumerable.Range(1, 6).Select(i => $"line {i}"), await server.StoredAsync());
    }

    [Fact]
    public async Task EveryAttemptResolvesTheNameAgainSoAFailoverRecordIsFollowed()
    {
        await using var server = AckingServer.NotStarted(Journal);
        var resolver = new SwitchingResolver();
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var sender = new ReconnectingSender("logs.test", server.Port, spool, Options(o => o.Client.Resolver = resolver));
        var run = sender.RunAsync();
        await sender.AppendAsync(Numbered(1, 2));
        sender.CompleteAdding();
        await Poll.UntilAsync(() => _retries.Count >= 3);   // 127.0.0.2: nothing listens there
        await server.StartAsync();                         // on 127.0.0.1, where the name now points
        resolver.Address = IPAddress.Loopback;

        await run.WaitAsync(Bound);
        await server.StopAsync();
        Assert.Equal(["line 1", "line 2"], await server.StoredAsync());
        Assert.True(resolver.Calls >= 4, $"{resolver.Calls} resolution(s) for {_retries.Count} retries");
    }

    private sealed class SwitchingResolver : IHostResolver
    {
        private int _calls;

        public volatile IPAddress Address = IPAddress.Parse("127.0.0.2");

        public int Calls => Volatile.Read(ref _calls);

        public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
        {
            Assert.Equal("logs.test", host);
            Interlocked.Increment(ref _calls);
            return Task.FromResult<IPAddress[]>([Address]);
        }
    }

    [Fact]
    public async Task AnIdleConnectionTheServerClosesIsNoOutageAndTheNextMessageReconnects()
    {
        await using var server = await AckingServer.StartAsync(Journal, o => o.IdleTimeout = TimeSpan.FromMilliseconds(300));
        using var spool = SqliteMessageSpool.Open(_temp.Spool);
        var sender = new ReconnectingSender("127.0.0.1", server.Port, spool, Options());
        var run = sender.RunAsync();
        await sender.AppendAsync(Numbered(1, 1));
        await Poll.UntilAsync(() => sender.Delivered == 1);
        // The server's sweep (once a second) closes the idle connection 0.3 to 1.3 s after the ack: wait for the
        // close itself, since a message sent just before it would meet the idle error line (a real refusal).
        await Poll.UntilAsync(() => server.ActiveConnections == 0);
        await Task.Delay(500); // and for the sender to see the close (its watcher reads the error line and the FIN)
        Assert.Equal(1, sender.Connections);

        await sender.AppendAsync(Numbered(2, 1));
        sender.CompleteAdding();
        await run.WaitAsync(Bound);
        Assert.Equal((2L, 2), (sender.Delivered, sender.Connections));
        Assert.Empty(_retries);
        Assert.Equal(TimeSpan.Zero, sender.LongestOutage);
    }

    [Fact]
    public async Task RetriesWaitOnTheTimeProviderNotTheWallClock()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = AckingServer.NotStarted(Journal);
        var spool = new MemoryMessageSpool(time);
        var options = Options(o =>
        {
            o.InitialRetryDelay = TimeSpan.FromMinutes(1);
            o.MaxRetryDelay = TimeSpan.FromMinutes(10);
            o.Client.TimeProvider = time;
        });
        var sender = new ReconnectingSender("127.0.0.1", server.Port, spool, options);
        var run = sender.RunAsync();
        await sender.AppendAsync(Numbered(1, 1));
        await Poll.UntilAsync(() => _retries.Count == 1);
        var first = _retries.Single().Delay;
        Assert.InRange(first, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1));
        await Task.Delay(200);
        Assert.Single(_retries); // a minute of backoff: no second attempt in real time

        time.Advance(first);
        await Poll.UntilAsync(() => _retries.Count == 2);
        Assert.InRange(_retries.Last().Delay, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2));
        Assert.False(run.IsCompleted);
    }
}
