namespace TcpTalk.Journal;

/// <summary>How far a committed message survives a crash. See docs/JOURNAL.md, "Commit and fsync points".</summary>
public enum JournalDurability
{
    /// <summary>
    /// SQLite <c>synchronous=NORMAL</c> in WAL mode: a commit is written to the WAL file but not fsynced. Survives
    /// the tcptalk process crashing or being killed; an OS crash or power loss may roll back the last commits (never
    /// corrupts the file). One fsync per checkpoint instead of one per commit.
    /// </summary>
    Normal,

    /// <summary>
    /// SQLite <c>synchronous=FULL</c>: the WAL file is fsynced at every commit, so a stored message survives power
    /// loss. Use it when the server acknowledges messages to clients, since an acknowledgement is a promise.
    /// </summary>
    Full,
}

/// <summary>Settings of a <see cref="SqliteMessageJournal"/>. Checked by <see cref="Validate"/>, which opening calls.</summary>
public sealed class JournalOptions
{
    /// <summary>
    /// Durability of a commit. Default <see cref="JournalDurability.Normal"/>: a killed server loses nothing and
    /// throughput is not bound by the disk's fsync latency. Choose <see cref="JournalDurability.Full"/> when
    /// acknowledgements are on.
    /// </summary>
    public JournalDurability Durability { get; set; } = JournalDurability.Normal;

    /// <summary>
    /// Most batches waiting for the writer; a further <see cref="SqliteMessageJournal.AppendAsync"/> waits for room
    /// (backpressure) instead of growing memory or dropping anything. Default 1024, in batches (one batch is one read
    /// of one connection): a connection has at most one batch in flight, so 1024 connections can write at once before
    /// any waits. A queued batch costs one small object, since its bytes stay in the connection's own buffer; the
    /// bound caps how much a single transaction takes on. Range 1 to 1,048,576.
    /// </summary>
    public int MaxQueuedBatches { get; set; } = 1024;

    /// <summary>
    /// How long a write waits for SQLite's write lock when another process holds it (someone writing to the file
    /// with the sqlite3 shell, say) before the write fails. Default 5 s: longer than any checkpoint, short enough
    /// that a stuck lock shows up as <see cref="SqliteMessageJournal.IsHealthy"/> false quickly. Zero fails at once.
    /// Range 0 to 1 hour, millisecond precision.
    /// </summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// While the journal is unhealthy, how often it tries a small write of its own to find out whether it can store
    /// messages again, so that <see cref="SqliteMessageJournal.IsHealthy"/> turns true even when no append comes.
    /// Default 1 s: a full disk or a stuck lock is noticed as cleared within a second, at the cost of one tiny
    /// transaction a second while failing (none while healthy). Range 10 ms to 1 hour.
    /// </summary>
    public TimeSpan RecoveryProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Most bytes of stored data to keep (the SQLite pages in use, without the WAL); past it the oldest rows are
    /// dropped whole, a read batch at a time, until the data is at 90% of it, and the drop is logged. The file stops
    /// growing (freed pages are reused) but does not shrink. Null (the default) keeps everything. The newest row is
    /// always kept: it carries the last id, so ids keep growing. At least 1 MiB.
    /// </summary>
    public long? MaxBytes { get; set; }

    /// <summary>
    /// Oldest receive time to keep, as an age: rows received longer ago are dropped whole, and the drop is logged.
    /// Checked at most once a second while messages arrive. Null (the default) keeps everything. The newest row is
    /// always kept. At least 1 second.
    /// </summary>
    public TimeSpan? MaxAge { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range and its allowed range.</summary>
    public void Validate()
    {
        if (Durability is not (JournalDurability.Normal or JournalDurability.Full))
        {
            throw new ArgumentException($"Durability is {Durability}; it must be Normal or Full");
        }

        if (MaxQueuedBatches is < 1 or > 1 << 20)
        {
            throw new ArgumentException($"MaxQueuedBatches is {MaxQueuedBatches}; it must be between 1 and {1 << 20}");
        }

        if (LockTimeout < TimeSpan.Zero || LockTimeout > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"LockTimeout is {LockTimeout}; it must be between 0 and 1 hour");
        }

        if (RecoveryProbeInterval < TimeSpan.FromMilliseconds(10) || RecoveryProbeInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"RecoveryProbeInterval is {RecoveryProbeInterval}; it must be between 10 ms and 1 hour");
        }

        if (MaxBytes is < 1 << 20)
        {
            throw new ArgumentException($"MaxBytes is {MaxBytes}; it must be at least {1 << 20} (1 MiB), or null to keep everything");
        }

        if (MaxAge is { } age && age < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentException($"MaxAge is {age}; it must be at least 1 second, or null to keep everything");
        }
    }

    /// <summary>The lock timeout for Microsoft.Data.Sqlite's own commands (opening, upgrading), which count whole seconds.</summary>
    internal int LockTimeoutSeconds => Math.Max(1, (int)Math.Ceiling(LockTimeout.TotalSeconds));
}
