namespace TcpTalk.Client;

/// <summary>
/// Where a <see cref="ReconnectingSender"/> keeps messages until the server acknowledged them: an append-only queue
/// whose entries carry increasing sequence numbers and leave only through <see cref="Acknowledge"/>.
/// </summary>
/// <remarks>
/// A durable implementation (TcpTalk.Spool's <c>SqliteMessageSpool</c>) makes <see cref="Append"/> survive a crash
/// before it returns; <see cref="MemoryMessageSpool"/> keeps them in memory only. The sender calls these methods from
/// its own task while the producer appends from another: implementations must be safe for one appender and one
/// reader/acknowledger at the same time.
/// </remarks>
public interface IMessageSpool
{
    /// <summary>
    /// Stores <paramref name="messages"/> in order, after everything already stored, and returns the sequence number
    /// given to the last (sequence numbers start at 1, grow by one per message and are never reused). When it returns,
    /// the messages are as durable as the spool can make them.
    /// </summary>
    long Append(IReadOnlyList<ReadOnlyMemory<byte>> messages);

    /// <summary>Up to <paramref name="max"/> stored messages with a sequence number above <paramref name="after"/>, oldest first.</summary>
    IReadOnlyList<SpooledMessage> Read(long after, int max);

    /// <summary>Removes every message with a sequence number up to <paramref name="through"/> (the server stored them).</summary>
    void Acknowledge(long through);

    /// <summary>What the spool holds now.</summary>
    SpoolBacklog Backlog { get; }
}

/// <summary>One message held in a spool.</summary>
/// <param name="Sequence">Its place in the spool: 1 for the first message ever appended, then one more per message.</param>
/// <param name="Payload">Its bytes, as appended.</param>
public readonly record struct SpooledMessage(long Sequence, ReadOnlyMemory<byte> Payload);

/// <summary>What a spool holds: the messages not yet acknowledged.</summary>
/// <param name="Messages">Messages held.</param>
/// <param name="Bytes">Their payload bytes in all.</param>
/// <param name="Oldest">When the oldest of them was appended; null when the spool is empty.</param>
/// <param name="LastSequence">The sequence number of the last message ever appended (0 for none): how many the spool ever accepted.</param>
public readonly record struct SpoolBacklog(long Messages, long Bytes, DateTimeOffset? Oldest, long LastSequence);
