using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Server.Tests;

/// <summary>The meter TcpTalk.Server, read the way dotnet-counters reads it: through a MeterListener.</summary>
public sealed class MetricsTests : IDisposable
{
    private readonly TestMeterFactory _meters = new();
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, List<(double Value, string? Reason)>> _seen = [];

    public MetricsTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (_meters.Created.Contains(instrument.Meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _meters.Dispose();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? reason = null;
        foreach (var tag in tags)
        {
            if (tag.Key == "reason")
            {
                reason = tag.Value as string;
            }
        }

        lock (_seen)
        {
            if (!_seen.TryGetValue(instrument.Name, out var list))
            {
                _seen[instrument.Name] = list = [];
            }

            list.Add((value, reason));
        }
    }

    private List<(double Value, string? Reason)> Seen(string name)
    {
        lock (_seen)
        {
            return _seen.TryGetValue(name, out var list) ? [.. list] : [];
        }
    }

    [Fact]
    public async Task EveryInstrumentReportsExactlyWhatHappened()
    {
        // The clock moves only when the test moves it: 5 ms per journal commit, 2 s before the client closes.
        var clock = new FakeTimeProvider();
        await using var journal = new FakeJournal { BeforeCommit = _ => { clock.Advance(TimeSpan.FromMilliseconds(5)); return Task.CompletedTask; } };
        var options = new TalkServerOptions { MeterFactory = _meters, MaxConnections = 1, Journal = journal, Acknowledge = true, TimeProvider = clock };
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        await using var server = new TalkServer(options, MessageSinks.None);
        await server.StartAsync();

        using var served = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await served.ConnectAsync(server.BoundEndpoints[0]);
        await Loopback.ReadAsync(served, frames: 1);
        using (var refused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await refused.ConnectAsync(server.BoundEndpoints[0]);
            await Loopback.ReadAsync(refused);
        }

        // One message per read, so each is one commit: two commits, two acks.
        await served.SendAsync("ab\0"u8.ToArray());
        Assert.Equal("ack 100\0", await Loopback.ReadAsync(served, frames: 1));
        await served.SendAsync("cde\0"u8.ToArray());
        Assert.Equal("ack 101\0", await Loopback.ReadAsync(served, frames: 1));
        clock.Advance(TimeSpan.FromSeconds(2));
        served.Shutdown(SocketShutdown.Send);
        Assert.Equal("", await Loopback.ReadAsync(served));
        await Poll.UntilAsync(() => server.ActiveConnections == 0 && Seen("tcptalk.server.session_duration").Count == 1);

        // Accepted means what TalkServer.AcceptedConnections means: every accepted connection, the refused one included.
        Assert.Equal([1.0, 1.0], Seen("tcptalk.server.connections_accepted").Select(m => m.Value));
        Assert.Equal(2, server.AcceptedConnections);
        Assert.Equal([(1.0, "max_connections")], Seen("tcptalk.server.connections_rejected"));
        Assert.Equal(1, server.RejectedConnections);
        Assert.Equal([1.0, -1.0], Seen("tcptalk.server.active_connections").Select(m => m.Value));
        Assert.Equal([1.0, 1.0], Seen("tcptalk.server.messages_received").Select(m => m.Value));
        Assert.Equal([2.0, 3.0], Seen("tcptalk.server.bytes_received").Select(m => m.Value));
        Assert.Equal([2.0, 3.0], Seen("tcptalk.server.message_size").Select(m => m.Value));
        Assert.Equal([1.0, 1.0], Seen("tcptalk.server.acks_sent").Select(m => m.Value));
        Assert.Equal([5.0, 5.0], Seen("tcptalk.server.journal_commit_latency").Select(m => m.Value));
        Assert.Equal([2.01], Seen("tcptalk.server.session_duration").Select(m => m.Value));
    }
}
