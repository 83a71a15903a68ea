using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// A batch waiting in the queue for the writer; completes with the id of its first message once committed, or with
/// <see cref="JournalUnavailableException"/>.
/// </summary>
/// <remarks>
/// Nothing is copied: the batch's bytes stay in the connection's buffer, which its contract keeps valid until
/// <see cref="SqliteMessageJournal.AppendAsync"/> completes, and that happens only after the writer is done with
/// them. The writer binds them straight from there (SQLite copies them into its page), so a message costs no managed
/// allocation on the way to disk when it is valid UTF-8.
/// </remarks>
internal sealed class PendingBatch(MessageBatch batch)
    : TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously) // never run a connection's read loop on the writer
{
    public MessageBatch Batch { get; } = batch;

    /// <summary>The id given to the first message in the transaction being written.</summary>
    public long FirstId { get; set; }
}
