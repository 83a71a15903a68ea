using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Postgres;

/// <summary>
/// The message journal in PostgreSQL: one table that every server node writes, each row naming its node, written by
/// one writer task per node with group commit (one binary COPY per group). Open it with
/// <see cref="OpenAsync(string, PostgresJournalOptions?, ILoggerFactory?, CancellationToken)"/>; any number of nodes and <see cref="PostgresJournalReader"/>s may use the same schema at once.
/// docs/SCALING.md says what an acknowledgement means for each PostgreSQL setting.
/// </summary>
/// <remarks>
/// <para>
/// Group commit. <see cref="AppendAsync"/> puts the batch in a bounded queue and waits. The writer takes everything
/// queued (up to <see cref="PostgresJournalOptions.MaxMessagesPerCommit"/>) and in one transaction reserves that many
/// ids (<c>UPDATE id_counter ... RETURNING</c>), copies the rows with one binary COPY, sends one NOTIFY, and commits;
/// only after COMMIT returned does it complete the waiting appends. Meanwhile new batches queue up for the next group;
/// when the queue is full an append waits, which stalls that connection's reads and, through TCP, its client.
/// </para>
/// <para>
/// Ids. The counter row is locked from the reservation to COMMIT, so the transactions of all nodes that store
/// messages take their ids one after another: ids are unique, increase in commit order across every node and have no
/// gaps (a rolled-back transaction also rolls back its reservation). A reader that has seen id N has seen every
/// committed id below N, which is what makes "follow by id" exact. The price is that nodes' commits do not overlap;
/// group commit makes each one carry many messages (docs/SCALING.md has the figures).
/// </para>
/// <para>
/// Failures. If any step fails (the database unreachable, the primary gone, a disk full, a standby promoted), every
/// append of that group throws <see cref="JournalUnavailableException"/>, <see cref="IsHealthy"/> turns false and the
/// connection is dropped. A failure of COMMIT itself other than an ERROR reply (the connection lost, the server
/// shutting down) leaves the outcome unknown: those appends throw with <c>MayBeStored</c> true ("may not be stored"),
/// never an acknowledgement. The next group opens a new connection to whichever listed host is read-write now; while
/// unhealthy the writer also probes every <see cref="PostgresJournalOptions.RecoveryProbeInterval"/>. One log line per
/// outage, one on recovery.
/// </para>
/// </remarks>
public sealed class PostgresMessageJournal : IMessageJournal
{
    private readonly PostgresJournalOptions _options;
    private readonly ILogger _logger;
    private readonly NpgsqlMultiHostDataSource _dataSource;
    private readonly Channel<PendingAppend> _queue;
    private readonly Lock _disposeGate = new();
    private readonly PostgresJournalHooks _hooks;
    private readonly string _uri;
    private readonly IReadOnlyList<PostgresHost> _hosts;
    private readonly string _schema;
    private readonly string _node;
    private readonly GroupCopier _copier;
    private readonly string _reserveSql;
    private readonly string _probeSql;
    private readonly string _channel;
    private Task? _writer;
    private Task? _disposal;
    private volatile bool _healthy = true;
    private long _commits;
    private long _failedCommits;
    private long _failuresSinceHealthy;
    private long _messages;

    // Owned by the writer task alone (and by OpenAsync before it starts).
    private NpgsqlConnection? _connection;
    private byte[] _probePayload = [];

    private PostgresMessageJournal(PostgresJournalUri uri, string schema, PostgresJournalOptions options, ILogger logger, PostgresJournalHooks? hooks)
    {
        _uri = uri.ToString();
        _hosts = uri.Hosts;
        _schema = schema;
        _options = options;
        _logger = logger;
        _hooks = hooks ?? new PostgresJournalHooks();
        _node = options.EffectiveNodeName;
        _dataSource = PostgresDataSources.Build(uri.ToConnectionStringBuilder());
        string q = PostgresJournalSchema.Quote(schema);
        _copier = new GroupCopier(schema, _node);
        _reserveSql = $"UPDATE {q}.id_counter SET last_id = last_id + $1 RETURNING last_id - $1 + 1";
        // A row inserted and deleted in one transaction: it needs room in the table as the failed group did (a disk
        // still full fails it), writes WAL and waits for the synchronous standby at COMMIT, and nobody ever sees it.
        _probeSql = $"INSERT INTO {q}.messages (id, node_name, received_us, local_address, local_port, client_address, client_port, connection_id, code_page, raw) " +
                    $"VALUES (-1, 'probe', 0, '', 0, '', 0, 0, 0, $1); DELETE FROM {q}.messages WHERE id = -1";
        _channel = PostgresJournalSchema.Channel(schema);
        _queue = Channel.CreateBounded<PendingAppend>(new BoundedChannelOptions(options.MaxQueuedBatches)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
            AllowSynchronousContinuations = false,
        });
    }

    /// <summary>The journal's URI without its password, with the schema in effect.</summary>
    public string Uri => _uri;

    /// <summary>The name stored with every message this journal writes.</summary>
    public string NodeName => _node;

    /// <summary>
    /// Whether the database had a synchronous standby when the journal opened: true when a standby was streaming
    /// synchronously and <c>synchronous_commit</c> waits for it, false when not, null when the journal user may not
    /// see <c>pg_stat_replication</c>.
    /// </summary>
    public bool? HasSynchronousStandby { get; private set; }

    /// <summary>True after opening and after every successful commit; false from a failed commit until a later one succeeds.</summary>
    public bool IsHealthy => _healthy;

    /// <summary>Transactions committed since opening.</summary>
    internal long Commits => Interlocked.Read(ref _commits);

    /// <summary>Transactions that failed since opening.</summary>
    internal long FailedCommits => Interlocked.Read(ref _failedCommits);

    /// <summary>
    /// Connects to the first host of <paramref name="uri"/> that is read-write, creates or upgrades the journal's
    /// schema there, logs whether the database has a synchronous standby, and starts the writer.
    /// </summary>
    /// <exception cref="FormatException">The URI is malformed; the message names the part.</exception>
    /// <exception cref="ArgumentException">An option is out of range, or the URI asks for a read-only session.</exception>
    /// <exception cref="PostgresJournalFormatException">The schema is from a newer tcptalk.</exception>
    /// <exception cref="JournalUnavailableException">No listed host is reachable and read-write, or the login or upgrade failed.</exception>
    public static Task<PostgresMessageJournal> OpenAsync(string uri, PostgresJournalOptions? options = null,
        ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default) =>
        OpenAsync(uri, options ?? new PostgresJournalOptions(), loggerFactory, PostgresJournalSchema.Steps, hooks: null, cancellationToken);

    internal static async Task<PostgresMessageJournal> OpenAsync(string uri, PostgresJournalOptions options, ILoggerFactory? loggerFactory,
        IReadOnlyList<string> schemaSteps, PostgresJournalHooks? hooks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var parsed = PostgresJournalUri.Parse(uri);
        if (parsed.TargetSessionAttributes is { } target && target is not ("read-write" or "primary"))
        {
            throw new ArgumentException($"target_session_attrs={target} cannot be written to; the journal always writes to the read-write host (leave it out, or say read-write)");
        }

        string schema = options.Schema ?? parsed.Schema;
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("TcpTalk.Journal.Postgres");
        var journal = new PostgresMessageJournal(parsed, schema, options, logger, hooks);
        try
        {
            await journal.StartAsync(schemaSteps, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await journal.CloseConnectionAsync().ConfigureAwait(false);
            await journal._dataSource.DisposeAsync().ConfigureAwait(false);
            if (e is NpgsqlException or TimeoutException)
            {
                throw new JournalUnavailableException($"journal {journal._uri} cannot be opened: {PostgresErrors.Describe(e, journal._hosts)}", e);
            }

            throw;
        }

        return journal;
    }

    private async Task StartAsync(IReadOnlyList<string> schemaSteps, CancellationToken cancellationToken)
    {
        await EnsureConnectionAsync(cancellationToken).ConfigureAwait(false);
        int from = await PostgresJournalSchema.UpgradeAsync(_connection!, _schema, schemaSteps, _uri, cancellationToken).ConfigureAwait(false);
        if (from != 0 && from != schemaSteps.Count)
        {
            PostgresJournalLog.Upgraded(_logger, _uri, from, schemaSteps.Count);
        }

        string host = HostOf(_connection!);
        PostgresJournalLog.Opened(_logger, _uri, host, _connection!.PostgreSqlVersion.ToString(), schemaSteps.Count, _node);
        HasSynchronousStandby = await ReplicationCheck.LogAsync(_connection, _logger, _uri, host, cancellationToken).ConfigureAwait(false);
        _writer = Task.Run(RunWriterAsync, CancellationToken.None);
    }

    /// <summary>
    /// Stores every message of <paramref name="batch"/>; completes once COMMIT returned, with the id of the first
    /// (the others follow consecutively). <paramref name="cancellationToken"/> is honoured only while the queue is
    /// full: once queued the batch will be written, and this completes with that outcome.
    /// </summary>
    /// <exception cref="JournalUnavailableException">The messages were not stored, or (<c>MayBeStored</c>) it is unknown whether they were.</exception>
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
        var pending = new PendingAppend(batch);
        return _queue.Writer.TryWrite(pending)
            ? new ValueTask<long>(pending.Task)
            : EnqueueAndWaitAsync(pending, cancellationToken);
    }

    /// <summary>Stops taking appends, writes everything already queued, and closes the connections.</summary>
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
        if (_writer is not null)
        {
            await _writer.ConfigureAwait(false);
        }

        await CloseConnectionAsync().ConfigureAwait(false);
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        PostgresJournalLog.Closed(_logger, _uri, Interlocked.Read(ref _messages), Commits);
    }

    private async ValueTask<long> EnqueueAndWaitAsync(PendingAppend pending, CancellationToken cancellationToken)
    {
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(PostgresMessageJournal), $"journal {_uri} is closed");
        }

        return await pending.Task.ConfigureAwait(false);
    }

    private async Task RunWriterAsync()
    {
        var reader = _queue.Reader;
        var group = new List<PendingAppend>();
        while (await WaitForBatchesAsync(reader).ConfigureAwait(false))
        {
            // Go to the back of the thread pool's queue once, so the appends completed by the last commit queue their
            // next batches into this group instead of waking the writer one by one (as the embedded journal does).
            await Task.Yield();
            int messages = 0;
            while (messages < _options.MaxMessagesPerCommit && reader.TryRead(out var pending))
            {
                group.Add(pending);
                messages += pending.Batch.Count;
            }

            if (group.Count > 0)
            {
                await WriteGroupAsync(group, messages).ConfigureAwait(false);
                group.Clear();
            }
        }

        await CloseConnectionAsync().ConfigureAwait(false);
    }

    /// <summary>Waits for batches (true) or the end (false); while unhealthy, probes every RecoveryProbeInterval meanwhile.</summary>
    private async ValueTask<bool> WaitForBatchesAsync(ChannelReader<PendingAppend> reader)
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

            await ProbeAsync().ConfigureAwait(false);
        }

        return await ready.ConfigureAwait(false);
    }

    /// <summary>A transaction that stores nothing but writes (a row it deletes again): it meets the host, its disk and its standby as an append would.</summary>
    private async Task ProbeAsync()
    {
        try
        {
            await EnsureConnectionAsync(CancellationToken.None).ConfigureAwait(false);
            await using var transaction = await _connection!.BeginTransactionAsync().ConfigureAwait(false);
            await using (var probe = new NpgsqlCommand(_probeSql, _connection))
            {
                probe.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = _probePayload });
                await probe.ExecuteNonQueryAsync().ConfigureAwait(false);
            }

            await transaction.CommitAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Still failing: said once already, when the append failed; the next probe or append tries again.
            await DropConnectionAsync().ConfigureAwait(false);
            return;
        }

        MarkHealthy();
    }

    /// <summary>Writes one group in one transaction and completes its appends. Never throws: the writer must not die.</summary>
    private async Task WriteGroupAsync(List<PendingAppend> group, int messages)
    {
        bool committing = false;
        try
        {
            await EnsureConnectionAsync(CancellationToken.None).ConfigureAwait(false);
            var connection = _connection!;
            var slices = _copier.CopyIntoArena(group);
            await using var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
            long firstId;
            await using (var reserve = new NpgsqlCommand(_reserveSql, connection))
            {
                reserve.Parameters.Add(new NpgsqlParameter<long> { TypedValue = messages });
                firstId = (long)(await reserve.ExecuteScalarAsync().ConfigureAwait(false))!;
            }

            await _copier.CopyRowsAsync(connection, group, slices, firstId).ConfigureAwait(false);
            await using (var notify = new NpgsqlCommand("SELECT pg_notify($1, '')", connection))
            {
                notify.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _channel });
                await notify.ExecuteNonQueryAsync().ConfigureAwait(false);
            }

            if (_hooks.BeforeCommitAsync is { } hook)
            {
                await hook(connection).ConfigureAwait(false);
            }

            committing = true;
            // The acknowledgement point: with synchronous_commit=on and a synchronous standby, COMMIT returns once the
            // commit record is flushed on the primary and on the standby (docs/SCALING.md lists every setting).
            await transaction.CommitAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await FailAsync(group, messages, e, mayBeStored: committing && PostgresErrors.OutcomeUnknown(e)).ConfigureAwait(false);
            return;
        }

        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _messages, messages);
        MarkHealthy();
        foreach (var pending in group)
        {
            pending.TrySetResult(pending.FirstId);
        }
    }

    private void MarkHealthy()
    {
        if (!_healthy)
        {
            _healthy = true;
            PostgresJournalLog.Recovered(_logger, _uri, _connection is { } c ? HostOf(c) : "?", Interlocked.Exchange(ref _failuresSinceHealthy, 0));
        }
    }

    private async Task FailAsync(List<PendingAppend> group, int messages, Exception error, bool mayBeStored)
    {
        await DropConnectionAsync().ConfigureAwait(false);
        bool wasHealthy = _healthy;
        _healthy = false;
        Interlocked.Increment(ref _failedCommits);
        Interlocked.Increment(ref _failuresSinceHealthy);
        string reason = PostgresErrors.Describe(error, _hosts);
        // The probe stores as many random (incompressible) bytes as this group held, up to 1 MiB, so that it
        // succeeds only once the group would fit: a tiny probe row fits a page a full disk still has room in.
        _probePayload = new byte[(int)Math.Min(GroupCopier.TotalBytes(group), 1 << 20)];
        Random.Shared.NextBytes(_probePayload);
        if (wasHealthy)
        {
            // One line per outage (the recovery gets its own); every failing retry meanwhile only at Debug.
            PostgresJournalLog.WriteFailed(_logger, _uri, messages, group.Count, reason);
        }

        PostgresJournalLog.WriteFailedAgain(_logger, error, _uri, messages, reason);
        var failure = mayBeStored
            ? new JournalUnavailableException($"journal {_uri} lost the database during COMMIT, so the messages may not be stored: {reason}", error, mayBeStored: true)
            : new JournalUnavailableException($"journal {_uri} could not store the messages: {reason}", error);
        foreach (var pending in group)
        {
            pending.TrySetException(failure);
        }
    }

    private async Task EnsureConnectionAsync(CancellationToken cancellationToken)
    {
        if (_connection is not null)
        {
            return;
        }

        var connection = await _dataSource.OpenConnectionAsync(TargetSessionAttributes.ReadWrite, cancellationToken).ConfigureAwait(false);
        // A WARNING during COMMIT is how PostgreSQL says a synchronous standby's confirmation was given up (the
        // commit is then local only): the operator must hear of it.
        connection.Notice += (_, e) =>
        {
            if (e.Notice.Severity is "WARNING")
            {
                PostgresJournalLog.ServerNotice(_logger, _uri, HostOf(connection), e.Notice.MessageText);
            }
        };
        _connection = connection;
    }

    /// <summary>Drops a connection that failed: it may be in any state. Forgets which host had which role, so the next
    /// connection asks every host again (the old primary may be gone, a standby promoted).</summary>
    private async Task DropConnectionAsync()
    {
        await CloseConnectionAsync().ConfigureAwait(false);
        _dataSource.ClearDatabaseStates();
        _dataSource.Clear();
    }

    private async Task CloseConnectionAsync()
    {
        var connection = _connection;
        _connection = null;
        if (connection is null)
        {
            return;
        }

        try
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Closing a broken connection can fail; it is released regardless.
        }
    }

    private static string HostOf(NpgsqlConnection connection) => $"{connection.Host}:{connection.Port}";
}
