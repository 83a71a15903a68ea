namespace TcpTalk.Messages;

/// <summary>
/// A durable store of received messages that the server calls before it tells anyone it has a message (before
/// printing it and before acknowledging it). Implemented by TcpTalk.Journal (SQLite); the server knows only this.
/// </summary>
public interface IMessageJournal : IAsyncDisposable
{
    /// <summary>
    /// Stores every message of <paramref name="batch"/> and completes once they are committed. Returns the id of the
    /// batch's first message; the others follow consecutively (first, first + 1, ...). Ids increase monotonically
    /// across the journal's life. Appends are stored in the order they are made: a caller may make the next before the
    /// previous one completed (the server keeps a few reads of a connection committing at once), and the next one's
    /// ids are then greater. The batch's bytes must stay valid until this completes. Completing slowly is how the
    /// journal applies backpressure: the calling connection stops reading once a few of its batches wait.
    /// </summary>
    /// <exception cref="JournalUnavailableException">The messages were not stored (disk full, I/O error, locked...).</exception>
    ValueTask<long> AppendAsync(MessageBatch batch, CancellationToken cancellationToken);

    /// <summary>Whether the last write succeeded; false while the journal is failing (the server may refuse new clients).</summary>
    bool IsHealthy { get; }
}

/// <summary>The journal could not store messages; none of the batch's messages may be acknowledged.</summary>
/// <param name="message">One sentence for the operator and the client.</param>
/// <param name="innerException">The storage error.</param>
/// <param name="mayBeStored">
/// True when the failure came after the messages were written, at the durability point (a failed fsync): they may
/// turn out stored after all, so the client is told "may not be stored" rather than "not stored".
/// </param>
public sealed class JournalUnavailableException(string message, Exception? innerException = null, bool mayBeStored = false)
    : IOException(message, innerException)
{
    /// <summary>Whether the messages may be in the journal despite the failure (see the constructor).</summary>
    public bool MayBeStored { get; } = mayBeStored;
}
