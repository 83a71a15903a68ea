using System.Buffers;
using TcpTalk.Messages;

namespace TcpTalk.Server;

/// <summary>
/// The batches of one connection that the journal is committing, oldest first: the connection reads and frames the
/// next read while earlier ones wait for their commit, and each batch is given to the sink and acknowledged only once
/// it and every batch before it are stored. At most <see cref="MaxBatchesInFlight"/> batches are pending; starting
/// one more first waits for the oldest, which is how a journal that falls behind stops the connection's reads.
/// </summary>
/// <remarks>
/// <para>
/// Ownership. A started batch owns its buffer and its ranges (both pooled) until its append and its hand-on are over:
/// the journal's writer reads the bytes where they are, so the receiver continues in a fresh buffer, and nothing goes
/// back to the pool while the writer may still read it, whatever happens (see <see cref="AbandonAsync"/>).
/// </para>
/// <para>
/// Order. Batches are started in the order they were read, and the journal stores appends in the order they were
/// made (<see cref="IMessageJournal.AppendAsync"/>), so ids grow in reading order; the sink and the acks follow the
/// same order because only the oldest batch is ever handed on.
/// </para>
/// <para>
/// Failure. When the oldest batch's commit fails, neither it nor any later batch of the connection is handed on or
/// acknowledged: the failure propagates and the connection is refused with the error line. The later batches are
/// waited for first; if any of them was stored after all, the failure says "may not be stored" (some were).
/// </para>
/// </remarks>
internal sealed class CommitPipeline(ConnectionContext context, ConnectionInfo info, ConnectionWriter writer)
{
    /// <summary>
    /// At most this many batches (reads) per connection wait for their commit: 4, enough to keep reading while a
    /// group commit is written (bench/journal.sh), and with at most one read buffer each the memory stays bounded
    /// (4 x 16 KiB per busy connection, more only for messages longer than a buffer).
    /// </summary>
    public const int MaxBatchesInFlight = 4;

    private readonly Queue<Pending> _pending = new(MaxBatchesInFlight);

    /// <summary>Messages handed on (stored, given to the sink, acknowledged) so far.</summary>
    public long Messages { get; private set; }

    /// <summary>Whether batches wait for their commit.</summary>
    public bool HasPending => _pending.Count > 0;

    /// <summary>Completes when the oldest pending batch's append ends (only while <see cref="HasPending"/>).</summary>
    public Task OldestCommit => _pending.Peek().Append;

    /// <summary>Waits, while <see cref="MaxBatchesInFlight"/> batches are pending, for the oldest and hands it on.</summary>
    public async ValueTask WaitForRoomAsync()
    {
        while (_pending.Count >= MaxBatchesInFlight)
        {
            await HandOnOldestAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Starts storing <paramref name="count"/> messages of <paramref name="buffer"/> (ranges in
    /// <paramref name="ranges"/>); once this returns both belong to this pipeline (when it throws, they are still the
    /// caller's). Call <see cref="WaitForRoomAsync"/> first.
    /// </summary>
    public void Start(IMessageJournal journal, byte[] buffer, (int Start, int Length)[] ranges, int count)
    {
        var batch = new MessageBatch(info, context.TimeProvider.GetUtcNow(), context.Encoding, buffer, ranges.AsMemory(0, count));
        long started = context.Metrics.TimesCommits ? context.TimeProvider.GetTimestamp() : 0;
        var append = journal.AppendAsync(batch, context.Aborting).AsTask();
        _pending.Enqueue(new Pending(batch, append, buffer, ranges, started));
    }

    /// <summary>Hands on the oldest batches as long as their commit is already over; never waits for a commit.</summary>
    public async ValueTask HandOnCommittedAsync()
    {
        while (_pending.TryPeek(out var oldest) && oldest.Append.IsCompleted)
        {
            await HandOnOldestAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Waits for the oldest batch's commit and hands it on.</summary>
    /// <exception cref="JournalUnavailableException">It was not stored (nor any later one handed on).</exception>
    public async ValueTask HandOnOldestAsync()
    {
        var oldest = _pending.Peek();
        long first;
        try
        {
            first = await oldest.Append.ConfigureAwait(false);
        }
        catch (JournalUnavailableException e)
        {
            _pending.Dequeue();
            Return(oldest.Buffer, oldest.Ranges);
            bool laterStored = await AbandonAsync().ConfigureAwait(false);
            if (laterStored && !e.MayBeStored)
            {
                throw new JournalUnavailableException(e.Message, e.InnerException, mayBeStored: true);
            }

            throw;
        }

        if (oldest.Started != 0)
        {
            context.Metrics.Committed(context.TimeProvider.GetElapsedTime(oldest.Started));
        }

        _pending.Dequeue();
        try
        {
            var batch = oldest.Batch with { FirstJournalId = first };
            Messages += batch.Count;
            context.Metrics.Received(batch);
            await context.Sink.OnMessagesAsync(batch, context.Aborting).ConfigureAwait(false);
            if (context.Acknowledge)
            {
                await writer.SendAcksAsync(first, batch.Count).ConfigureAwait(false);
                context.Metrics.AcksSent(batch.Count);
            }
        }
        finally
        {
            Return(oldest.Buffer, oldest.Ranges);
        }
    }

    /// <summary>Waits for every pending batch's commit and hands each on, oldest first.</summary>
    public async ValueTask DrainAsync()
    {
        while (_pending.Count > 0)
        {
            await HandOnOldestAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for every pending append to end without handing anything on, and gives the buffers back (the writer may
    /// read them until then). Returns whether any of them was stored. Never throws.
    /// </summary>
    public async ValueTask<bool> AbandonAsync()
    {
        bool stored = false;
        while (_pending.TryDequeue(out var pending))
        {
            try
            {
                await pending.Append.ConfigureAwait(false);
                stored = true;
            }
            catch (Exception)
            {
                // Not stored, or cancelled before it was queued: either way it is not acknowledged.
            }

            Return(pending.Buffer, pending.Ranges);
        }

        return stored;
    }

    private static void Return(byte[] buffer, (int, int)[] ranges)
    {
        ArrayPool<byte>.Shared.Return(buffer);
        ArrayPool<(int, int)>.Shared.Return(ranges);
    }

    private readonly record struct Pending(MessageBatch Batch, Task<long> Append, byte[] Buffer, (int Start, int Length)[] Ranges, long Started);
}
