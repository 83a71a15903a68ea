using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>Settings of a <see cref="JournalReader"/>.</summary>
public sealed class JournalReaderOptions
{
    /// <summary>
    /// How often <see cref="JournalReader.FollowAsync"/> looks for new records. Default 20 ms: a new message shows up
    /// well within 50 ms of its commit, and an idle poll (two indexed lookups of the last id) costs next to nothing
    /// (50 a second, a few microseconds each). Range 1 ms to 1 minute.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Told one sentence for every stored row a query skips because it fails its checksum or is malformed (which ids,
    /// and why); null to only count them in <see cref="JournalReader.DamagedRows"/>. <c>tcptalk messages</c> prints
    /// them on stderr. Nothing damaged is ever returned as a record.
    /// </summary>
    public Action<string>? Damaged { get; set; }

    /// <summary>Clock for the poll delay. Default <see cref="TimeProvider.System"/>; tests inject a fake.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (PollInterval < TimeSpan.FromMilliseconds(1) || PollInterval > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentException($"PollInterval is {PollInterval}; it must be between 1 ms and 1 minute");
        }

        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}

/// <summary>
/// Reads a journal, for <c>tcptalk messages</c>: queries with filters, and follows new records as they are
/// committed. Opens the file read-only; WAL mode lets it read while a server writes, seeing only committed messages.
/// </summary>
/// <remarks>
/// Results are read in pages of <see cref="PageSize"/> rows, each in its own short read transaction, so a slow
/// consumer (a pipe into <c>less</c>) never holds an old snapshot that would stop the writer's WAL from being
/// recycled. One query or follow at a time per reader: it has a single connection.
/// </remarks>
public sealed class JournalReader : IJournalReader, IDisposable
{
    /// <summary>Rows fetched per read transaction.</summary>
    internal const int PageSize = 1000;

    private readonly SqliteConnection _connection;
    private readonly JournalReaderOptions _options;
    private readonly bool _hasBatches;
    private readonly bool _hasUniqueIds;

    private JournalReader(string path, SqliteConnection connection, JournalReaderOptions options, int version)
    {
        Path = path;
        _connection = connection;
        _options = options;
        _hasBatches = version >= 2;
        _hasUniqueIds = version >= 3;
    }

    /// <summary>The journal file's full path.</summary>
    public string Path { get; }

    /// <summary>Opens the journal at <paramref name="path"/> read-only; it must exist.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="JournalFormatException">The file is not a tcptalk journal (empty, not SQLite, another program's database), or from a newer tcptalk.</exception>
    /// <exception cref="JournalUnavailableException">The path is a directory, or the file cannot be read (permissions, I/O error).</exception>
    public static JournalReader Open(string path, JournalReaderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new JournalReaderOptions();
        options.Validate();
        string fullPath = System.IO.Path.GetFullPath(path);
        FileErrors.RefuseDirectory(fullPath);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"journal {fullPath} does not exist", fullPath);
        }

        SqliteConnection? connection = null;
        try
        {
            connection = SqliteRuntime.Open(fullPath, SqliteOpenMode.ReadOnly, busyTimeoutSeconds: 5);
            var (version, isEmpty) = JournalSchema.Inspect(connection, fullPath);
            if (isEmpty && new FileInfo(fullPath).Length == 0)
            {
                throw new JournalFormatException(fullPath, $"{fullPath} is empty (0 bytes), not a tcptalk journal");
            }

            if (isEmpty)
            {
                throw new JournalFormatException(fullPath, $"{fullPath} is an empty SQLite file, not a tcptalk journal");
            }

            JournalSchema.RefuseNewer(fullPath, version, JournalSchema.CurrentVersion);
            if (version < 1)
            {
                throw new JournalFormatException(fullPath, $"journal {fullPath} has schema version {version}, which no tcptalk wrote");
            }

            // Version 1 (one row per message) is read as it is, without upgrading: the reader never writes.
            return new JournalReader(fullPath, connection, options, version);
        }
        catch (SqliteException e)
        {
            connection?.Dispose();
            throw e.SqliteErrorCode == 26
                ? new JournalFormatException(fullPath, $"{fullPath} is not an SQLite database, so it cannot be a tcptalk journal", e)
                : new JournalUnavailableException($"journal {fullPath} cannot be read: {SqliteRuntime.Describe(e)}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            connection?.Dispose();
            throw new JournalUnavailableException($"journal {fullPath} cannot be read: permission denied", e);
        }
        catch
        {
            connection?.Dispose();
            throw;
        }
    }

    /// <summary>Rows skipped so far because they failed their checksum or were malformed (each reported to <see cref="JournalReaderOptions.Damaged"/>).</summary>
    public long DamagedRows { get; private set; }

    /// <summary>The highest id stored so far; 0 for an empty journal.</summary>
    public long GetLastId()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = _hasBatches ? JournalSchema.LastIdSql : "SELECT coalesce(max(id), 0) FROM messages";
        return (long)command.ExecuteScalar()!;
    }

    /// <inheritdoc/>
    public Task<long> GetLastIdAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(GetLastId());
    }

    /// <summary>The records committed so far that match <paramref name="query"/>, oldest first.</summary>
    /// <exception cref="ArgumentException">The query is invalid (see <see cref="JournalQuery.Validate"/>) or sets <see cref="JournalQuery.Node"/>.</exception>
    public IAsyncEnumerable<JournalRecord> QueryAsync(JournalQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        Validate(query);
        return QueryUpToAsync(query, GetLastId(), cancellationToken);
    }

    /// <summary>
    /// The records committed so far that match <paramref name="query"/> (with its <see cref="JournalQuery.Limit"/>),
    /// then every matching record committed later, as it is committed, until <paramref name="cancellationToken"/>
    /// is cancelled (which ends the enumeration with <see cref="OperationCanceledException"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The query is invalid (see <see cref="JournalQuery.Validate"/>).</exception>
    public IAsyncEnumerable<JournalRecord> FollowAsync(JournalQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        Validate(query);
        return FollowCoreAsync(query, cancellationToken);
    }

    /// <inheritdoc/>
    public void Dispose() => _connection.Dispose();

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The query's own checks, and the node filter rejected: this journal stores no node name.</summary>
    private static void Validate(JournalQuery query)
    {
        query.Validate();
        if (query.Node is not null)
        {
            throw new ArgumentException(
                $"Node (\"{query.Node}\") cannot be applied: the embedded journal is one node's and stores no node name");
        }
    }

    private async IAsyncEnumerable<JournalRecord> FollowCoreAsync(JournalQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long seen = GetLastId();
        await foreach (var record in QueryUpToAsync(query, seen, cancellationToken).ConfigureAwait(false))
        {
            yield return record;
        }

        var live = query.FiltersOnly();
        seen = Math.Max(seen, query.AfterId ?? 0);
        while (true)
        {
            await Task.Delay(_options.PollInterval, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
            long last = GetLastId();
            if (last <= seen)
            {
                continue;
            }

            await foreach (var record in ReadRangeAsync(live, seen, last, cancellationToken).ConfigureAwait(false))
            {
                yield return record;
            }

            seen = last;
        }
    }

    /// <summary>Applies the query to the ids up to <paramref name="lastId"/>, a snapshot taken by the caller.</summary>
    private async IAsyncEnumerable<JournalRecord> QueryUpToAsync(JournalQuery query, long lastId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = query.AfterId ?? 0;
        if (query.Limit is int limit && query.Newest)
        {
            // Newest N: read backwards until N match, then hand them out oldest first. Memory is bounded by N.
            var newest = new List<JournalRecord>(Math.Min(limit, PageSize));
            await foreach (var record in ReadRangeAsync(query, after, lastId, cancellationToken, descending: true).ConfigureAwait(false))
            {
                newest.Add(record);
                if (newest.Count == limit)
                {
                    break;
                }
            }

            for (int i = newest.Count - 1; i >= 0; i--)
            {
                yield return newest[i];
            }

            yield break;
        }

        int count = 0;
        await foreach (var record in ReadRangeAsync(query, after, lastId, cancellationToken).ConfigureAwait(false))
        {
            yield return record;
            if (++count == query.Limit)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// The records with <paramref name="afterId"/> &lt; id &lt;= <paramref name="lastId"/> matching the query's
    /// filters (not its limit): version 1's rows (all older) and then the batch rows, or the reverse when descending.
    /// </summary>
    private IAsyncEnumerable<JournalRecord> ReadRangeAsync(JournalQuery query, long afterId, long lastId,
        CancellationToken cancellationToken, bool descending = false)
    {
        var filter = new RecordFilter(query);
        var legacy = LegacyRows.ReadAsync(_connection, filter, afterId, lastId, descending, cancellationToken);
        if (!_hasBatches)
        {
            return legacy;
        }

        var batches = new BatchRows(_connection, filter, Path, ReportDamage, _hasUniqueIds).ReadAsync(afterId, lastId, descending, cancellationToken);
        return descending ? Concat(batches, legacy, cancellationToken) : Concat(legacy, batches, cancellationToken);
    }

    private static async IAsyncEnumerable<JournalRecord> Concat(IAsyncEnumerable<JournalRecord> first, IAsyncEnumerable<JournalRecord> second,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var record in first.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return record;
        }

        await foreach (var record in second.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return record;
        }
    }

    private void ReportDamage(string sentence)
    {
        DamagedRows++;
        _options.Damaged?.Invoke(sentence);
    }
}
