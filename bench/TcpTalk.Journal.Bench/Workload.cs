using System.Net;
using TcpTalk.Messages;
using TcpTalk.Protocol;

/// <summary>
/// The groups of batches a store gets in one commit, as the server makes them: stream mode gives a few connections
/// with thousands of messages per read; session mode gives one message per batch, each from a new connection.
/// </summary>
internal sealed class Workload
{
    private readonly byte[] _buffer;
    private readonly (int Start, int Length)[] _ranges;
    private readonly ConnectionInfo[] _streamConnections;
    private long _nextConnection = 1000;

    public Workload(string name, int connectionsPerGroup, int messagesPerBatch, int messageBytes, bool newConnectionPerBatch)
    {
        Name = name;
        ConnectionsPerGroup = connectionsPerGroup;
        MessagesPerBatch = messagesPerBatch;
        NewConnectionPerBatch = newConnectionPerBatch;
        // As a read leaves them: each message followed by its NUL terminator in the connection's buffer.
        _buffer = new byte[(messageBytes + 1) * messagesPerBatch];
        _ranges = new (int, int)[messagesPerBatch];
        var random = new Random(1);
        for (int m = 0; m < messagesPerBatch; m++)
        {
            int start = m * (messageBytes + 1);
            for (int i = 0; i < messageBytes; i++)
            {
                _buffer[start + i] = (byte)('a' + random.Next(26));
            }

            _ranges[m] = (start, messageBytes);
        }

        _streamConnections = [.. Enumerable.Range(1, connectionsPerGroup).Select(NewConnection)];
    }

    public string Name { get; }

    public int ConnectionsPerGroup { get; }

    public int MessagesPerBatch { get; }

    public bool NewConnectionPerBatch { get; }

    public int MessagesPerGroup => ConnectionsPerGroup * MessagesPerBatch;

    /// <summary>The next batch of connection slot <paramref name="slot"/> (a new connection in session mode).</summary>
    public MessageBatch NextBatch(int slot)
    {
        var connection = NewConnectionPerBatch ? NewConnection((int)Interlocked.Increment(ref _nextConnection)) : _streamConnections[slot];
        return new MessageBatch(connection, DateTimeOffset.UtcNow, MessageText.Utf8, _buffer, _ranges);
    }

    /// <summary>The next commit group: one batch per connection.</summary>
    public MessageBatch[] NextGroup()
    {
        var now = DateTimeOffset.UtcNow;
        var group = new MessageBatch[ConnectionsPerGroup];
        for (int c = 0; c < group.Length; c++)
        {
            var connection = NewConnectionPerBatch ? NewConnection((int)Interlocked.Increment(ref _nextConnection)) : _streamConnections[c];
            group[c] = new MessageBatch(connection, now, MessageText.Utf8, _buffer, _ranges);
        }

        return group;
    }

    private static ConnectionInfo NewConnection(int id) =>
        new(id, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Loopback, 20000 + id % 40000));
}
