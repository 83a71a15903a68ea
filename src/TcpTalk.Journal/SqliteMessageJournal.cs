using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// The durable message journal: an SQLite file in WAL mode with one row per read batch (schema 2), written by one writer task
/// with group commit. Open it with <see cref="Open(string, JournalOptions?, ILoggerFactory?)"/>; one process at a
/// time may hold it (the others get <see cref="JournalInUseException"/>), while any number of
/// <see cref="JournalReader"/>s read it meanwhile. docs/JOURNAL.md has the schema and the whole story.
/// </summary>
/// <remarks>
/// <para>
/// Group commit. <see cref="AppendAsync"/> puts the batch in a bounded queue and waits. The writer takes
/// everything queued at that moment, inserts it in one transaction (one row per batch), commits, and only then
/// completes every waiting append with its first id. While that commit runs, new batches queue up and go into the
/// next one, so the busier the server, the more messages share a commit: the cost of a commit (and with
/// <see cref="JournalDurability.Full"/> of its fsync) is paid once per group, not once per message. When the queue
/// is full an append waits for room, which stalls that connection's reads and so, through TCP, its client.
/// </para>
/// <para>
/// Commit and fsync points. A message is reported stored only after COMMIT returned. In WAL mode COMMIT appends the
/// transaction's pages to <c>&lt;path&gt;-wal</c>; with <see cref="JournalDurability.Full"/> it also fsyncs that file
/// before returning, with <see cref="JournalDurability.Normal"/> it does not (the pages are in the OS cache, safe from
/// a process crash). The WAL is copied back into the database file by checkpoints, which SQLite runs inside a commit
/// once the WAL passes 1000 pages (about 4 MiB); a checkpoint fsyncs the WAL, then the database file, in both modes.
/// </para>
/// <para>
/// Failures. If any step of the transaction fails (disk full, I/O error, a foreign process holding the write lock
/// past <see cref="JournalOptions.LockTimeout"/>), the transaction is rolled back, every append of that group throws
/// <see cref="JournalUnavailableException"/>, <see cref="IsHealthy"/> turns false, and the connection is closed. The
/// next group opens a new connection and tries again, and while unhealthy the writer also probes on its own every
/// <see cref="JournalOptions.RecoveryProbeInterval"/>; the first commit that succeeds makes the journal healthy
/// again. Ids of a failed group were never reported, and are given to later messages.
/// </para>
/// </remarks>
public sealed class SqliteMessageJournal : IMessageJournal
{
    private readonly JournalOptions _options;
    private readonly ILogger _logger;
    private readonly JournalLock _lock;
    private readonly Channel<PendingBatch> _queue;
    private readonly Task _writer;
    private readonly Lock _disposeGate = new();
    private readonly JournalHooks _hooks;
    private readonly int _schemaVersion;
    private Task? _disposal;
    private volatile bool _healthy = true;
    private long _commits;
    private long _failedCommits;
    private long _failuresSinceHealthy;
    private long _messages;

    // Owned by the writer task alone (and by Open before it starts).
    private SqliteConnection? _connection;
    private BatchInserter? _insert;
    private long _nextId;
    private long _nextRetention;

    private SqliteMessageJournal(string path, JournalOptions options, ILogger logger, JournalLock fileLock, int schemaVersion, JournalHooks? hooks)
    {
        Path = path;
        _schemaVersion = schemaVersion;
        _options = options;
        _logger = logger;
        _lock = fileLock;
        _queue = Channel.CreateBounded<PendingBatch>(new BoundedChannelOptions(options.MaxQueuedBatches)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
        _hooks = hooks ?? new JournalHooks();
        EnsureConnection(); // fail in Open, not at the first append
        JournalLog.Opened(_logger, Path, schemaVersion, _options.Durability, _nextId);
        _writer = Task.Run(RunWriterAsync);
    }

    /// <summary>The journal file's full path.</summary>
    public string Path { get; }

    /// <summary>
    /// True after opening and after every successful commit; false from a failed commit until a later commit (of
    /// messages, or of the writer's own recovery probe) succeeds.
    /// </summary>
    public bool IsHealthy => _healthy;

    /// <summary>Transactions committed since opening.</summary>
    internal long Commits => Interlocked.Read(ref _commits);

    /// <summary>Transactions that failed since opening.</summary>
    internal long FailedCommits => Interlocked.Read(ref _failedCommits);

    /// <summary>Batches waiting in the queue (not yet taken by the writer).</summary>
    internal int QueuedBatches => _queue.Reader.Count;

    /// <summary>
    /// Opens the journal at <paramref name="path"/>, creating the file if it is missing (its folder must exist) and
    /// upgrading an older schema, and starts the writer.
    /// </summary>
    /// <exception cref="JournalInUseException">Another tcptalk process, or another journal in this one, holds the file.</exception>
    /// <exception cref="JournalFormatException">The file is not a tcptalk journal, or is from a newer tcptalk.</exception>
    /// <exception cref="JournalUnavailableException">The file cannot be opened or created (permissions, missing folder, I/O error).</exception>
    /// <exception cref="ArgumentException">An option is out of range; the message names it.</exception>
    public static SqliteMessageJournal Open(string path, JournalOptions? options = null, ILoggerFactory? loggerFactory = null) =>
        Open(path, options ?? new JournalOptions(), loggerFactory, JournalSchema.Steps, hooks: null);

    /// <summary>Opens with another list of schema steps and test hooks: for tests of upgrades and failures.</summary>
    internal static SqliteMessageJournal Open(string path, JournalOptions options, ILoggerFactory? loggerFactory,
        IReadOnlyList<string> schemaSteps, JournalHooks? hooks)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        string fullPath = System.IO.Path.GetFullPath(path);
        FileErrors.RefuseDirectory(fullPath);
        string? folder = System.IO.Path.GetDirectoryName(fullPath);
        if (folder is not null && !Directory.Exists(folder))
        {
            throw new JournalUnavailableException($"journal {fullPath} cannot be created: folder {folder} does not exist");
        }

        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TcpTalk.Journal");
        var fileLock = JournalLock.Acquire(fullPath);
        try
        {
            int from;
            int version;
            using (var connection = OpenWriterConnection(fullPath, options))
            {
                // Inspect before changing anything (even the journal mode), so another program's file stays untouched.
                (version, _) = JournalSchema.Inspect(connection, fullPath);
                JournalSchema.RefuseNewer(fullPath, version, schemaSteps.Count);
                SetJournalModeWal(connection, fullPath);
                from = JournalSchema.Upgrade(connection, fullPath, schemaSteps);
                version = schemaSteps.Count;
            }

            if (from != version && from != 0)
            {
                JournalLog.Upgraded(logger, fullPath, from, version);
            }

            return new SqliteMessageJournal(fullPath, options, logger, fileLock, version, hooks);
        }
        catch (SqliteException e)
        {
            fileLock.Dispose();
            throw e.SqliteErrorCode == 26
                ? new JournalFormatException(fullPath, $"{fullPath} is not an SQLite database, so it cannot be a tcptalk journal; give another --journal path", e)
                : new JournalUnavailableException($"journal {fullPath} cannot be opened: {SqliteRuntime.Describe(e)}", e);
        }
        catch
        {
            fileLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stores every message of <paramref name="batch"/>; completes once they are committed, with the id of the first
    /// (the others follow consecutively). Nothing is copied: the writer reads the batch's bytes where they are, which
    /// <see cref="MessageBatch"/>'s contract keeps valid until this completes. <paramref name="cancellationToken"/> is
    /// honoured only while the queue is full: once the batch is queued it will be written (the writer may be reading
    /// its bytes), and this completes with that outcome.
    /// </summary>
    /// <exception cref="JournalUnavailableException">The messages were not stored; the sentence says why.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting for room in the queue; nothing was stored.</exception>
    /// <exception cref="ObjectDisposedException">The journal was disposed.</exception>
    /// <exception cref="ArgumentException">The batch holds no message.</exception>
    public ValueTask<long> AppendAsync(MessageBatch batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            throw new ArgumentException("a batch to store holds at least one message", nameof(batch));
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposal) is not null, this);
        var pending = new PendingBatch(batch);
        return _queue.Writer.TryWrite(pending)
            ? new ValueTask<long>(pending.Task)
            : EnqueueAndWaitAsync(pending, cancellationToken);
    }

    /// <summary>
    /// Stops taking appends, writes everything already queued, closes the file and releases the single-writer lock.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        lock (_disposeGate)
        {
            _disposal ??= DisposeCoreAsync();
            return new ValueTask(_disposal);
        }
    }

    private async Task DisposeCoreAsync()
    {
        _queue.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
        CloseConnection();
        _lock.Dispose();
        JournalLog.Closed(_logger, Path, Interlocked.Read(ref _messages), Commits);
    }

    private async ValueTask<long> EnqueueAndWaitAsync(PendingBatch pending, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(SqliteMessageJournal), $"journal {Path} is closed");
        }

        return await pending.Task.ConfigureAwait(false);
    }

    private async Task RunWriterAsync()
    {
        var reader = _queue.Reader;
        var group = new List<PendingBatch>();
        while (await WaitForBatchesAsync(reader).ConfigureAwait(false))
        {
            try
            {
                if (_hooks.BeforeTransactionAsync is { } gate)
                {
                    await gate().ConfigureAwait(false);
                }
            }
            catch (Exception)
            {
                // Only tests set the hook; it must not kill the writer.
            }

            // Go to the back of the thread pool's queue once: the appends completed by the last commit run first and
            // queue their next batches, which then share this transaction instead of waking the writer one by one
            // (bench/journal.sh: about 20% more messages per second with 64 appenders on 2 cores).
            await Task.Yield();

            // Everything queued right now goes into this transaction; the queue's bound limits its size.
            while (reader.TryRead(out var pending))
            {
                group.Add(pending);
            }

            if (group.Count > 0)
            {
                WriteGroup(group);
                group.Clear();
            }
        }

        CloseConnection();
    }

    /// <summary>
    /// Waits until batches are queued (true) or the queue is completed and empty (false). While the journal is
    /// unhealthy it also probes every <see cref="JournalOptions.RecoveryProbeInterval"/>, so that it turns healthy
    /// again even when nobody appends (a server that refuses clients while the journal fails would get no appends).
    /// </summary>
    private async ValueTask<bool> WaitForBatchesAsync(ChannelReader<PendingBatch> reader)
    {
        var ready = reader.WaitToReadAsync();
        while (!_healthy && !ready.IsCompleted)
        {
            var wait = ready.AsTask();
            ready = new ValueTask<bool>(wait);
            using var probeDue = new CancellationTokenSource();
            var delay = Task.Delay(_options.RecoveryProbeInterval, probeDue.Token);
            if (await Task.WhenAny(wait, delay).ConfigureAwait(false) == wait)
            {
                await probeDue.CancelAsync().ConfigureAwait(false);
                break;
            }

            Probe();
        }

        return await ready.ConfigureAwait(false);
    }

    /// <summary>
    /// A transaction that stores no message but writes (it rewrites the schema version in the file header), so it
    /// meets the disk, the file and the write lock as an append would. Success makes the journal healthy.
    /// </summary>
    private void Probe()
    {
        try
        {
            EnsureConnection();
            _insert!.Begin();
            JournalSchema.ExecuteScript(_connection!, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"PRAGMA user_version = {_schemaVersion}"));
            _hooks.BeforeCommit?.Invoke();
            _insert.Commit();
        }
        catch (Exception)
        {
            // Still failing: said once already, when the append failed; the next probe or append tries again.
            try
            {
                _insert?.Rollback();
            }
            catch (Exception)
            {
                // The connection is closed below either way.
            }

            CloseConnection();
            return;
        }

        MarkHealthy();
    }

    /// <summary>Writes one group in one transaction and completes its appends. Never throws: the writer must not die.</summary>
    private void WriteGroup(List<PendingBatch> group)
    {
        long id = 0;
        try
        {
            EnsureConnection();
            _insert!.Begin();
            id = _nextId;
            foreach (var pending in group)
            {
                pending.FirstId = id;
                id = _insert.Insert(pending.Batch, id);
            }

            _hooks.BeforeCommit?.Invoke();
            _insert.Commit(); // the commit point: see the type's remarks for what is on disk when this returns
        }
        catch (Exception e)
        {
            Fail(group, e);
            return;
        }

        long stored = id - _nextId;
        _nextId = id;
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _messages, stored);
        MarkHealthy();

        foreach (var pending in group)
        {
            pending.TrySetResult(pending.FirstId);
        }

        ApplyRetention();
    }

    /// <summary>
    /// Drops the oldest data past <see cref="JournalOptions.MaxAge"/> or <see cref="JournalOptions.MaxBytes"/>, at
    /// most once a second, after a commit (the appends of the group are already completed). A failure is logged and
    /// retried later: it never fails an append.
    /// </summary>
    private void ApplyRetention()
    {
        if ((_options.MaxAge is null && _options.MaxBytes is null) || Environment.TickCount64 < _nextRetention || _connection is null)
        {
            return;
        }

        _nextRetention = Environment.TickCount64 + 1000;
        try
        {
            var (dropped, oldestKept) = Retention.Enforce(_connection, _options, UnixMicros.From(DateTimeOffset.UtcNow));
            if (dropped > 0)
            {
                string limit = string.Join(", ", new[]
                {
                    _options.MaxAge is { } age ? $"max age {age}" : null,
                    _options.MaxBytes is { } bytes ? $"max bytes {bytes}" : null,
                }.OfType<string>());
                JournalLog.Dropped(_logger, Path, dropped, limit, oldestKept);
            }
        }
        catch (Exception e)
        {
            JournalLog.RetentionFailed(_logger, Path, SqliteRuntime.Describe(e));
            CloseConnection(); // its state is unknown; the next group opens a fresh one
        }
    }

    private void MarkHealthy()
    {
        if (!_healthy)
        {
            _healthy = true;
            JournalLog.Recovered(_logger, Path, Interlocked.Exchange(ref _failuresSinceHealthy, 0));
        }
    }

    private void Fail(List<PendingBatch> group, Exception error)
    {
        try
        {
            _insert?.Rollback();
        }
        catch (Exception)
        {
            // SQLite may already have rolled back (e.g. on SQLITE_FULL); the connection is closed below either way.
        }

        // A connection that failed mid-write may be in any state: start the next attempt from a fresh one.
        CloseConnection();
        bool wasHealthy = _healthy;
        _healthy = false;
        Interlocked.Increment(ref _failedCommits);
        Interlocked.Increment(ref _failuresSinceHealthy);
        string reason = SqliteRuntime.Describe(error);
        int messages = group.Sum(p => p.Batch.Count);
        if (wasHealthy)
        {
            // One line for the operator per outage (the recovery gets its own line); every retry that fails
            // meanwhile, with the exception, only at Debug.
            JournalLog.WriteFailed(_logger, Path, messages, group.Count, reason);
        }

        JournalLog.WriteFailedAgain(_logger, error, Path, messages, reason);
        // A failed fsync (SQLITE_IOERR_FSYNC, _DIR_FSYNC) comes after the commit's frames reached the WAL, which the
        // next connection may recover as committed: those messages are "maybe stored", any other failure rolled back.
        bool mayBeStored = error is SqliteException { SqliteExtendedErrorCode: 1034 or 1290 };
        var failure = mayBeStored
            ? new JournalUnavailableException($"journal {Path} could not make the messages durable: {reason}", error, mayBeStored: true)
            : new JournalUnavailableException($"journal {Path} could not store the messages: {reason}", error);
        foreach (var pending in group)
        {
            pending.TrySetException(failure);
        }
    }

    private void EnsureConnection()
    {
        if (_connection is not null)
        {
            return;
        }

        var connection = OpenWriterConnection(Path, _options);
        try
        {
            ConfigureWriter(connection, _options);
            _hooks.ConnectionOpened?.Invoke(connection);
            using (var max = connection.CreateCommand())
            {
                max.CommandText = JournalSchema.LastIdSql + " + 1";
                _nextId = (long)max.ExecuteScalar()!;
            }

            _insert = new BatchInserter(connection);
            _connection = connection;
        }
        catch
        {
            _insert?.Dispose();
            _insert = null;
            connection.Dispose();
            throw;
        }
    }

    private void CloseConnection()
    {
        try
        {
            _insert?.Dispose();
            _connection?.Dispose();
        }
        catch (Exception)
        {
            // Closing a broken connection can fail; the handle is released regardless.
        }

        _insert = null;
        _connection = null;
    }

    private static SqliteConnection OpenWriterConnection(string path, JournalOptions options) =>
        SqliteRuntime.Open(path, SqliteOpenMode.ReadWriteCreate, options.LockTimeoutSeconds);

    private static void SetJournalModeWal(SqliteConnection connection, string path)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL";
        string? mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new JournalUnavailableException($"journal {path} cannot be opened: SQLite refused WAL mode there (journal mode {mode}); put it on a local disk");
        }
    }

    internal static void ConfigureWriter(SqliteConnection connection, JournalOptions options)
    {
        // synchronous is per connection: NORMAL fsyncs only at checkpoints, FULL at every commit (docs/JOURNAL.md).
        // busy_timeout: SQLite itself waits that long for a write lock held by another process.
        // journal_size_limit truncates the WAL back to 64 MiB after a checkpoint that follows a burst.
        string synchronous = options.Durability == JournalDurability.Full ? "FULL" : "NORMAL";
        JournalSchema.ExecuteScript(connection, string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = {(long)options.LockTimeout.TotalMilliseconds}; PRAGMA journal_size_limit = {64 << 20};"));
    }
}
