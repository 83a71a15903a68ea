namespace TcpTalk.Journal.Postgres;

/// <summary>Settings of a <see cref="PostgresMessageJournal"/>. Checked by <see cref="Validate"/>, which opening calls.</summary>
public sealed class PostgresJournalOptions
{
    /// <summary>
    /// The name stored with every message this server writes, so that one table can serve every node and a reader
    /// can tell them apart. Default null: the machine's host name (<see cref="Environment.MachineName"/>). 1 to 63
    /// characters.
    /// </summary>
    public string? NodeName { get; set; }

    /// <summary>
    /// The schema holding the journal's tables; overrides the URI's <c>?schema=</c>. Default null: the URI's, else
    /// <see cref="PostgresJournalUri.DefaultSchema"/>. A plain identifier (letters, digits, underscores).
    /// </summary>
    public string? Schema { get; set; }

    /// <summary>
    /// Most batches waiting for the writer; a further append waits for room (backpressure: the connection stops
    /// reading, TCP slows its client) instead of growing memory. Default 1024 batches, as the embedded journal: a
    /// connection has at most one batch in flight. Range 1 to 1,048,576.
    /// </summary>
    public int MaxQueuedBatches { get; set; } = 1024;

    /// <summary>
    /// Most messages in one transaction (one COPY). Default 10,000: large enough that a commit's round trips (and a
    /// synchronous standby's confirmation) are shared by many messages, small enough that a group's copy of the
    /// message bytes stays a few MiB. Range 1 to 1,000,000.
    /// </summary>
    public int MaxMessagesPerCommit { get; set; } = 10_000;

    /// <summary>
    /// While the journal is unhealthy, how often it tries a small write of its own (a row inserted and deleted
    /// in one transaction) to find out whether it can store messages again, on whichever host is now read-write. Default 1 s:
    /// a failover is noticed within a second of the new primary accepting writes. Range 10 ms to 1 hour.
    /// </summary>
    public TimeSpan RecoveryProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The node name in effect: <see cref="NodeName"/> or the host name.</summary>
    internal string EffectiveNodeName => string.IsNullOrEmpty(NodeName) ? Environment.MachineName : NodeName;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range and its allowed range.</summary>
    public void Validate()
    {
        if (NodeName is { Length: > 63 } || (NodeName is not null && NodeName.Any(char.IsControl)))
        {
            throw new ArgumentException($"NodeName '{NodeName}' must be at most 63 characters without control characters");
        }

        if (Schema is not null && !PostgresJournalUri.IsPlainIdentifier(Schema))
        {
            throw new ArgumentException($"Schema '{Schema}' must be 1 to 63 letters, digits or underscores, not starting with a digit");
        }

        if (MaxQueuedBatches is < 1 or > 1 << 20)
        {
            throw new ArgumentException($"MaxQueuedBatches is {MaxQueuedBatches}; it must be between 1 and {1 << 20}");
        }

        if (MaxMessagesPerCommit is < 1 or > 1_000_000)
        {
            throw new ArgumentException($"MaxMessagesPerCommit is {MaxMessagesPerCommit}; it must be between 1 and 1000000");
        }

        if (RecoveryProbeInterval < TimeSpan.FromMilliseconds(10) || RecoveryProbeInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"RecoveryProbeInterval is {RecoveryProbeInterval}; it must be between 10 ms and 1 hour");
        }
    }
}
