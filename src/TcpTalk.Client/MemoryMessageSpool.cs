namespace TcpTalk.Client;

/// <summary>
/// An <see cref="IMessageSpool"/> in memory: messages survive reconnects but not the process. For programs that only
/// need to ride out server restarts, and for tests; TcpTalk.Spool's <c>SqliteMessageSpool</c> survives crashes.
/// </summary>
public sealed class MemoryMessageSpool(TimeProvider? timeProvider = null) : IMessageSpool
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Lock _gate = new();
    private readonly Queue<(SpooledMessage Message, DateTimeOffset Appended)> _held = new();
    private long _last;
    private long _bytes;

    /// <inheritdoc/>
    public SpoolBacklog Backlog
    {
        get
        {
            lock (_gate)
            {
                return new SpoolBacklog(_held.Count, _bytes, _held.Count > 0 ? _held.Peek().Appended : null, _last);
            }
        }
    }

    /// <inheritdoc/>
    public long Append(IReadOnlyList<ReadOnlyMemory<byte>> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            foreach (var payload in messages)
            {
                _held.Enqueue((new SpooledMessage(++_last, payload.ToArray()), now));
                _bytes += payload.Length;
            }

            return _last;
        }
    }

    /// <inheritdoc/>
    public IReadOnlyList<SpooledMessage> Read(long after, int max)
    {
        lock (_gate)
        {
            return [.. _held.Select(h => h.Message).Where(m => m.Sequence > after).Take(max)];
        }
    }

    /// <inheritdoc/>
    public void Acknowledge(long through)
    {
        lock (_gate)
        {
            while (_held.Count > 0 && _held.Peek().Message.Sequence <= through)
            {
                _bytes -= _held.Dequeue().Message.Payload.Length;
            }
        }
    }
}
