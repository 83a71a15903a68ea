using System.Diagnostics.Metrics;
using TcpTalk.Messages;

namespace TcpTalk.Server;

/// <summary>
/// The server's instruments on the meter <c>TcpTalk.Server</c> (watch them with
/// <c>dotnet-counters monitor -n tcptalk --counters TcpTalk.Server</c>). Tags are low-cardinality: only the reason of
/// a rejection. Recording costs nothing measurable while no listener is attached.
/// </summary>
internal sealed class ServerMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "TcpTalk.Server";

    private static readonly Meter s_shared = new(MeterName);

    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _messages;
    private readonly Counter<long> _bytes;
    private readonly Histogram<int> _messageSize;
    private readonly Histogram<double> _sessionDuration;
    private readonly Histogram<double> _commitLatency;
    private readonly Counter<long> _acks;
    private readonly Counter<long> _proxyRejected;

    public ServerMetrics(IMeterFactory? factory)
    {
        var meter = factory?.Create(MeterName) ?? s_shared;
        _active = meter.CreateUpDownCounter<long>("tcptalk.server.active_connections", "{connection}", "Connections open now");
        _accepted = meter.CreateCounter<long>("tcptalk.server.connections_accepted", "{connection}",
            "Connections accepted by a listener, the refused ones included (TalkServer.AcceptedConnections)");
        _rejected = meter.CreateCounter<long>("tcptalk.server.connections_rejected", "{connection}",
            "Accepted connections refused, by reason (TalkServer.RejectedConnections)");
        _messages = meter.CreateCounter<long>("tcptalk.server.messages_received", "{message}", "Complete messages received");
        _bytes = meter.CreateCounter<long>("tcptalk.server.bytes_received", "By", "Message bytes received (terminators not counted)");
        _messageSize = meter.CreateHistogram<int>("tcptalk.server.message_size", "By", "Size of each message");
        _sessionDuration = meter.CreateHistogram<double>("tcptalk.server.session_duration", "s", "Time from accept to close");
        _commitLatency = meter.CreateHistogram<double>("tcptalk.server.journal_commit_latency", "ms", "Time for the journal to commit one read's messages");
        _acks = meter.CreateCounter<long>("tcptalk.server.acks_sent", "{ack}", "Acknowledgements sent");
        _proxyRejected = meter.CreateCounter<long>("tcptalk.server.proxy_header_rejected", "{connection}",
            "Connections from a trusted proxy closed for a missing, malformed, over-long or late PROXY header, by reason");
    }

    /// <summary>A listener accepted a connection; it may yet be refused.</summary>
    public void Accepted() => _accepted.Add(1);

    /// <summary>An admitted connection's handler started: it counts as active until <see cref="Closed"/>.</summary>
    public void Opened() => _active.Add(1);

    public void Closed(TimeSpan duration)
    {
        _active.Add(-1);
        _sessionDuration.Record(duration.TotalSeconds);
    }

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Received(MessageBatch batch)
    {
        _messages.Add(batch.Count);
        if (_bytes.Enabled || _messageSize.Enabled)
        {
            long total = 0;
            for (int i = 0; i < batch.Count; i++)
            {
                int length = batch[i].Length;
                total += length;
                _messageSize.Record(length);
            }

            _bytes.Add(total);
        }
    }

    public bool TimesCommits => _commitLatency.Enabled;

    public void Committed(TimeSpan latency) => _commitLatency.Record(latency.TotalMilliseconds);

    public void AcksSent(int count) => _acks.Add(count);

    /// <summary>A connection from a trusted proxy was closed for its PROXY header; <paramref name="reason"/> is a <see cref="ProxyHeaderReader"/> reason tag.</summary>
    public void ProxyHeaderRejected(string reason) => _proxyRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
}
