using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// The clocks of one connection's timeouts: written by its handler as messages and sends start and end, read by the
/// server's once-a-second sweep. Timestamps are <see cref="TimeProvider"/> ticks; 0 means "not running".
/// </summary>
internal sealed class ConnectionDeadlines
{
    private long _lastMessageAt;
    private long _messageStartedAt;
    private long _sendStartedAt;
    private string? _expiredBecause;

    /// <summary>Starts the idle clock at <paramref name="now"/>: the sweep may look before the handler runs.</summary>
    public ConnectionDeadlines(long now)
    {
        OpenedAt = _lastMessageAt = now;
    }

    /// <summary>When the connection was accepted.</summary>
    public long OpenedAt { get; }

    /// <summary>Why the sweep closed the connection, or null while it is within its limits.</summary>
    public string? ExpiredBecause => Volatile.Read(ref _expiredBecause);

    /// <summary>
    /// Messages completed at <paramref name="now"/>. The message deadline runs from a message's first byte: completing
    /// every message stops it, and completing one while the next has begun (<paramref name="partialFollows"/>)
    /// restarts it for the next.
    /// </summary>
    public void MessagesCompleted(long now, bool partialFollows)
    {
        Volatile.Write(ref _lastMessageAt, now);
        Volatile.Write(ref _messageStartedAt, partialFollows ? now : 0);
    }

    /// <summary>Bytes of a message arrived, none completed: starts the message deadline unless it runs already.</summary>
    public void PartialMessageSeen(long now)
    {
        if (Volatile.Read(ref _messageStartedAt) == 0)
        {
            Volatile.Write(ref _messageStartedAt, now);
        }
    }

    /// <summary>A send could not complete at once (the client is not reading): starts the write deadline.</summary>
    public void SendStarted(long now) => Volatile.Write(ref _sendStartedAt, now);

    /// <summary>The waiting send completed or failed.</summary>
    public void SendEnded() => Volatile.Write(ref _sendStartedAt, 0);

    /// <summary>
    /// Called by the sweep: marks the connection expired when one of its timeouts has passed and returns the reason,
    /// once; null when it is within its limits or was marked before. <paramref name="sendBlocked"/> tells whether a
    /// send is what waits (then only closing the socket can end it).
    /// </summary>
    public string? TryExpire(long now, TimeProvider time, TimeSpan idle, TimeSpan message, TimeSpan write, out bool sendBlocked)
    {
        string? reason = null;
        long sendStarted = Volatile.Read(ref _sendStartedAt);
        long messageStarted = Volatile.Read(ref _messageStartedAt);
        sendBlocked = sendStarted != 0;
        if (write > TimeSpan.Zero && sendStarted != 0 && time.GetElapsedTime(sendStarted, now) > write)
        {
            reason = $"client did not read for {DurationText.Format(write)} (write timeout)";
        }
        else if (message > TimeSpan.Zero && messageStarted != 0 && time.GetElapsedTime(messageStarted, now) > message)
        {
            reason = $"message not completed within {DurationText.Format(message)} of its first byte (message timeout)";
        }
        else if (idle > TimeSpan.Zero && time.GetElapsedTime(Volatile.Read(ref _lastMessageAt), now) > idle)
        {
            reason = $"no complete message for {DurationText.Format(idle)} (idle timeout)";
        }

        return reason is not null && Interlocked.CompareExchange(ref _expiredBecause, reason, null) is null ? reason : null;
    }

    /// <summary>Ends the handler's work with the reason once the sweep has expired the connection.</summary>
    /// <exception cref="ConnectionExpiredException">The connection has expired.</exception>
    public void ThrowIfExpired()
    {
        if (ExpiredBecause is { } reason)
        {
            throw new ConnectionExpiredException(reason);
        }
    }
}

/// <summary>One of the connection's timeouts passed; the message is the reason the client is told.</summary>
internal sealed class ConnectionExpiredException(string reason) : Exception(reason);
