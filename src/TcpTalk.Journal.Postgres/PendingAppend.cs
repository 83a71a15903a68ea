using TcpTalk.Messages;

namespace TcpTalk.Journal.Postgres;

/// <summary>
/// A batch waiting in the queue for the writer; completes with the id of its first message once committed, or with
/// <see cref="JournalUnavailableException"/>. The batch's bytes stay in the connection's buffer until then, as
/// <see cref="MessageBatch"/>'s contract promises; the writer copies them into its group buffer for COPY.
/// </summary>
internal sealed class PendingAppend(MessageBatch batch)
    : TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously) // never run a connection's read loop on the writer
{
    public MessageBatch Batch { get; } = batch;

    /// <summary>The id given to the first message in the transaction being written.</summary>
    public long FirstId { get; set; }
}
