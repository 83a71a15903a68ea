using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Data.Sqlite;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>Settings of a <see cref="JournalReader"/>.</summary>
public sealed class JournalReaderOptions
{
    /// <summary>
    /// How often <see cref="JournalReader.FollowAsync"/> looks for new records. Default 200 ms: new messages show up
    /// faster than a person notices, and an idle poll (one indexed max(id) lookup) costs next to nothing. Range 1 ms
    /// to 1 minute.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

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
public sealed class JournalReader : IDisposable
{
    /// <summary>Rows fetched per read transaction.</summary>
    internal const int PageSize = 1000;

    private const string Columns = "id, received_us, local_address, local_port, client_address, client_port, connection_id, code_page, raw, text";

    private readonly SqliteConnection _connection;
    private readonly JournalReaderOptions _options;

    private JournalReader(string path, SqliteConnection connection, JournalReaderOptions options)
    {
        Path = path;
        _connection = connection;
        _options = options;
    }

    /// <summary>The journal file's full path.</summary>
    public string Path { get; }

    /// <summary>Opens the journal at <paramref name="path"/> read-only; it must exist.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="JournalFormatException">The file is not a tcptalk journal, or has another schema version.</exception>
    /// <exception cref="JournalUnavailableException">The file cannot be read (permissions, I/O error).</exception>
    public static JournalReader Open(string path, JournalReaderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options ??= new JournalReaderOptions();
        options.Validate();
        string fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"journal {fullPath} does not exist", fullPath);
        }

        SqliteConnection? connection = null;
        try
        {
            connection = SqliteRuntime.Open(fullPath, SqliteOpenMode.ReadOnly, busyTimeoutSeconds: 5);
            var (version, isEmpty) = JournalSchema.Inspect(connection, fullPath);
            if (isEmpty)
            {
                throw new JournalFormatException(fullPath, $"{fullPath} is an empty SQLite file, not a tcptalk journal");
            }

            JournalSchema.RefuseNewer(fullPath, version, JournalSchema.CurrentVersion);
            if (version < JournalSchema.CurrentVersion)
            {
                throw new JournalFormatException(fullPath, $"journal {fullPath} has schema version {version}, older than this tcptalk's {JournalSchema.CurrentVersion}; start this tcptalk's server on it once to upgrade it");
            }

            return new JournalReader(fullPath, connection, options);
        }
        catch (SqliteException e)
        {
            connection?.Dispose();
            throw e.SqliteErrorCode == 26
                ? new JournalFormatException(fullPath, $"{fullPath} is not an SQLite database, so it cannot be a tcptalk journal", e)
                : new JournalUnavailableException($"journal {fullPath} cannot be read: {SqliteRuntime.Describe(e)}", e);
        }
        catch
        {
            connection?.Dispose();
            throw;
        }
    }

    /// <summary>The highest id stored so far; 0 for an empty journal.</summary>
    public long GetLastId()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(id), 0) FROM messages";
        return (long)command.ExecuteScalar()!;
    }

    /// <summary>The records committed so far that match <paramref name="query"/>, oldest first.</summary>
    /// <exception cref="ArgumentException">The query is invalid (see <see cref="JournalQuery.Validate"/>).</exception>
    public IAsyncEnumerable<JournalRecord> QueryAsync(JournalQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
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
        query.Validate();
        return FollowCoreAsync(query, cancellationToken);
    }

    /// <inheritdoc/>
    public void Dispose() => _connection.Dispose();

    private async IAsyncEnumerable<JournalRecord> FollowCoreAsync(JournalQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long seen = GetLastId();
        await foreach (var record in QueryUpToAsync(query, seen, cancellationToken).ConfigureAwait(false))
        {
            yield return record;
        }

        var live = new JournalQuery
        {
            Since = query.Since,
            Until = query.Until,
            From = query.From,
            Contains = query.Contains,
        };
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
    /// filters (not its limit), page by page.
    /// </summary>
    private async IAsyncEnumerable<JournalRecord> ReadRangeAsync(JournalQuery query, long afterId, long lastId,
        [EnumeratorCancellation] CancellationToken cancellationToken, bool descending = false)
    {
        var network = Normalize(query.From);
        bool exactAddress = network is { } n && n.PrefixLength == (n.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        using var command = _connection.CreateCommand();
        command.CommandText = BuildSql(query, exactAddress, descending);
        var low = command.Parameters.Add("$after", SqliteType.Integer);
        var high = command.Parameters.Add("$last", SqliteType.Integer);
        command.Parameters.AddWithValue("$page", PageSize);
        if (query.Since is { } since)
        {
            command.Parameters.AddWithValue("$since", UnixMicros.From(since));
        }

        if (query.Until is { } until)
        {
            command.Parameters.AddWithValue("$until", UnixMicros.From(until));
        }

        if (exactAddress)
        {
            command.Parameters.AddWithValue("$from", network!.Value.BaseAddress.ToString());
        }

        if (query.Contains is { } contains)
        {
            command.Parameters.AddWithValue("$contains", contains);
        }

        while (afterId < lastId)
        {
            low.Value = afterId;
            high.Value = lastId;
            var page = new List<JournalRecord>();
            int rows = 0;
            long lastRead = 0;
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows++;
                    lastRead = reader.GetInt64(0);
                    // A network filter runs here, before the row's blobs are read, so skipping a row stays cheap.
                    if (network is { } net && !exactAddress && !net.Contains(ParseAddress(reader.GetString(4))))
                    {
                        continue;
                    }

                    page.Add(ReadRecord(reader));
                }
            }

            // The next page continues past the last row read, matching or not.
            if (descending)
            {
                lastId = lastRead - 1;
            }
            else
            {
                afterId = lastRead;
            }

            foreach (var record in page)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return record;
            }

            if (rows < PageSize)
            {
                yield break;
            }
        }
    }

    private static string BuildSql(JournalQuery query, bool exactAddress, bool descending)
    {
        var sql = new StringBuilder($"SELECT {Columns} FROM messages WHERE id > $after AND id <= $last");
        if (query.Since is not null)
        {
            sql.Append(" AND received_us >= $since");
        }

        if (query.Until is not null)
        {
            sql.Append(" AND received_us < $until");
        }

        if (exactAddress)
        {
            sql.Append(" AND client_address = $from");
        }

        if (query.Contains is not null)
        {
            sql.Append(" AND instr(text, $contains) > 0");
        }

        sql.Append(descending ? " ORDER BY id DESC LIMIT $page" : " ORDER BY id LIMIT $page");
        return sql.ToString();
    }

    private static JournalRecord ReadRecord(SqliteDataReader reader)
    {
        return new JournalRecord(
            id: reader.GetInt64(0),
            receivedAt: UnixMicros.ToTime(reader.GetInt64(1)),
            localAddress: ParseAddress(reader.GetString(2)),
            localPort: reader.GetInt32(3),
            clientAddress: ParseAddress(reader.GetString(4)),
            clientPort: reader.GetInt32(5),
            connectionId: reader.GetInt64(6),
            codePage: reader.GetInt32(7),
            raw: (byte[])reader.GetValue(8),
            text: reader.GetString(9));
    }

    private static IPAddress ParseAddress(string text) => IPAddress.TryParse(text, out var address) ? address : IPAddress.None;

    /// <summary>An IPv4-mapped IPv6 network (<c>::ffff:10.0.0.0/104</c>) is the IPv4 network the server stores.</summary>
    private static IPNetwork? Normalize(IPNetwork? network)
    {
        if (network is not { } n || !n.BaseAddress.IsIPv4MappedToIPv6 || n.PrefixLength < 96)
        {
            return network;
        }

        return new IPNetwork(n.BaseAddress.MapToIPv4(), n.PrefixLength - 96);
    }
}
