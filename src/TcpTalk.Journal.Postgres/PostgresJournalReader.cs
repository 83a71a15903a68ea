using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Npgsql;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Postgres;

/// <summary>
/// Reads a PostgreSQL journal, for <c>tcptalk messages --journal postgres://...</c>: queries with filters, and follows
/// new records as they are committed by any node. Queries go to the primary when it is up, else to a standby (unless
/// the URI's <c>target_session_attrs</c> says otherwise); a follow needs the primary, where LISTEN works.
/// </summary>
/// <remarks>
/// Ids increase in commit order across nodes without gaps (see <see cref="PostgresMessageJournal"/>), so "every
/// record with an id above the last one seen" is exactly what is new. A follow LISTENs on the journal's channel and
/// takes each NOTIFY (one per commit) only as a wake-up, then reads by id; notifications carry nothing. Results are
/// read in pages of <see cref="PageSize"/> rows. One query or follow at a time per reader.
/// </remarks>
public sealed class PostgresJournalReader : IJournalReader
{
    /// <summary>Rows fetched per query.</summary>
    internal const int PageSize = 1000;

    private const string Columns = "id, node_name, received_us, local_address, local_port, client_address, client_port, connection_id, code_page, unique_id, raw";

    private readonly NpgsqlMultiHostDataSource _dataSource;
    internal PostgresJournalReaderOptions Options { get; }
    private readonly TargetSessionAttributes _queryTarget;
    internal TargetSessionAttributes FollowTarget { get; }
    internal string Schema { get; }

    private PostgresJournalReader(PostgresJournalUri uri, string schema, NpgsqlMultiHostDataSource dataSource, PostgresJournalReaderOptions options)
    {
        Uri = uri.ToString();
        Schema = schema;
        _dataSource = dataSource;
        Options = options;
        var explicitTarget = uri.TargetSessionAttributes is { } t ? PostgresJournalUri.ParseTarget(t) : (TargetSessionAttributes?)null;
        _queryTarget = explicitTarget ?? TargetSessionAttributes.PreferPrimary;
        FollowTarget = explicitTarget ?? TargetSessionAttributes.Primary;
    }

    /// <summary>The journal's URI without its password.</summary>
    public string Uri { get; }

    /// <summary>Opens the journal at <paramref name="uri"/> and checks that the schema holds a journal of this version.</summary>
    /// <exception cref="FormatException">The URI is malformed; the message names the part.</exception>
    /// <exception cref="PostgresJournalFormatException">The schema holds no journal, or one of another version.</exception>
    /// <exception cref="JournalUnavailableException">No listed host can be reached, or the login failed.</exception>
    public static async Task<PostgresJournalReader> OpenAsync(string uri, PostgresJournalReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uri);
        options ??= new PostgresJournalReaderOptions();
        options.Validate();
        var parsed = PostgresJournalUri.Parse(uri);
        string schema = options.Schema ?? parsed.Schema;
        var dataSource = PostgresDataSources.Build(parsed.ToConnectionStringBuilder());
        var reader = new PostgresJournalReader(parsed, schema, dataSource, options);
        try
        {
            await using var connection = await reader.OpenAsync(reader._queryTarget, cancellationToken).ConfigureAwait(false);
            int? version = await PostgresJournalSchema.ReadVersionAsync(connection, schema, cancellationToken).ConfigureAwait(false);
            if (version is null)
            {
                throw new PostgresJournalFormatException($"journal {reader.Uri}: the database has no tcptalk journal in schema {schema}; start 'tcptalk serve --journal' with this URI once to create it");
            }

            PostgresJournalSchema.RefuseNewer(reader.Uri, schema, version.Value, PostgresJournalSchema.CurrentVersion);
            if (version < PostgresJournalSchema.CurrentVersion)
            {
                throw new PostgresJournalFormatException($"journal {reader.Uri} (schema {schema}) has schema version {version}, older than this tcptalk's {PostgresJournalSchema.CurrentVersion}; start this tcptalk's server on it once to upgrade it");
            }
        }
        catch (Exception e)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            if (e is NpgsqlException or TimeoutException)
            {
                throw new JournalUnavailableException($"journal {reader.Uri} cannot be read: {PostgresErrors.Describe(e, parsed.Hosts)}", e);
            }

            throw;
        }

        return reader;
    }

    /// <summary>The highest id committed so far; 0 for an empty journal.</summary>
    public async Task<long> GetLastIdAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(_queryTarget, cancellationToken).ConfigureAwait(false);
        return await GetLastIdAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The records committed so far that match <paramref name="query"/>, oldest first.</summary>
    /// <exception cref="ArgumentException">The query is invalid (see <see cref="JournalQuery.Validate"/>).</exception>
    public IAsyncEnumerable<JournalRecord> QueryAsync(JournalQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        return QueryCoreAsync(query, cancellationToken);
    }

    /// <summary>
    /// The records committed so far that match <paramref name="query"/> (with its limit), then every matching record
    /// any node commits later, as it is committed, until <paramref name="cancellationToken"/> is cancelled (which ends
    /// the enumeration with <see cref="OperationCanceledException"/>). A lost connection is reopened on its own after
    /// <see cref="PostgresJournalReaderOptions.ReconnectDelay"/>, and the follow goes on from the last id it returned.
    /// </summary>
    /// <exception cref="ArgumentException">The query is invalid (see <see cref="JournalQuery.Validate"/>).</exception>
    public IAsyncEnumerable<JournalRecord> FollowAsync(JournalQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        query.Validate();
        return FollowCoreAsync(query, cancellationToken);
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    private async IAsyncEnumerable<JournalRecord> QueryCoreAsync(JournalQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(_queryTarget, cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            long last = await GetLastIdAsync(connection, cancellationToken).ConfigureAwait(false);
            await foreach (var record in QueryUpToAsync(connection, query, last, cancellationToken).ConfigureAwait(false))
            {
                yield return record;
            }
        }
    }

    private async IAsyncEnumerable<JournalRecord> FollowCoreAsync(JournalQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var follower = new JournalFollower(this);
        try
        {
            // LISTEN before taking the snapshot of the last id, so no commit falls between the two unnoticed.
            await follower.ConnectAsync(cancellationToken).ConfigureAwait(false);
            long seen = await GetLastIdAsync(follower.Connection!, cancellationToken).ConfigureAwait(false);
            await foreach (var record in QueryUpToAsync(follower.Connection!, query, seen, cancellationToken).ConfigureAwait(false))
            {
                yield return record;
            }

            follower.Seen = Math.Max(seen, query.AfterId ?? 0);
            var live = query.FiltersOnly();
            while (true)
            {
                List<JournalRecord> news;
                try
                {
                    news = await follower.NextAsync(live, cancellationToken).ConfigureAwait(false);
                }
                catch (NpgsqlException) when (!cancellationToken.IsCancellationRequested)
                {
                    await follower.ReconnectAsync(cancellationToken).ConfigureAwait(false);
                    continue;
                }

                foreach (var record in news)
                {
                    yield return record;
                }
            }
        }
        finally
        {
            await follower.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal async Task<NpgsqlConnection> OpenAsync(TargetSessionAttributes target, CancellationToken cancellationToken)
    {
        try
        {
            return await _dataSource.OpenConnectionAsync(target, cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException)
        {
            // The next attempt asks every host for its role again (a standby may have been promoted).
            _dataSource.ClearDatabaseStates();
            throw;
        }
    }

    internal async Task<long> GetLastIdAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT last_id FROM {PostgresJournalSchema.Quote(Schema)}.id_counter", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Applies the query to the ids up to <paramref name="lastId"/>, a snapshot taken by the caller.</summary>
    private async IAsyncEnumerable<JournalRecord> QueryUpToAsync(NpgsqlConnection connection, JournalQuery query, long lastId,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = query.AfterId ?? 0;
        if (query.Limit is int limit && query.Newest)
        {
            // Newest N: read backwards until N match, then hand them out oldest first. Memory is bounded by N.
            var newest = new List<JournalRecord>(Math.Min(limit, PageSize));
            long high = lastId;
            while (high > after && newest.Count < limit)
            {
                var (matches, rows, lastRead) = await ReadPageAsync(connection, Schema, query, after, high, descending: true, cancellationToken).ConfigureAwait(false);
                newest.AddRange(matches.Take(limit - newest.Count));
                if (rows < PageSize)
                {
                    break;
                }

                high = lastRead - 1;
            }

            for (int i = newest.Count - 1; i >= 0; i--)
            {
                yield return newest[i];
            }

            yield break;
        }

        int count = 0;
        while (after < lastId)
        {
            var (matches, rows, lastRead) = await ReadPageAsync(connection, Schema, query, after, lastId, descending: false, cancellationToken).ConfigureAwait(false);
            foreach (var record in matches)
            {
                yield return record;
                if (++count == query.Limit)
                {
                    yield break;
                }
            }

            if (rows < PageSize)
            {
                yield break;
            }

            after = lastRead;
        }
    }

    /// <summary>
    /// One page of the rows with <paramref name="afterId"/> &lt; id &lt;= <paramref name="lastId"/>: the ones that
    /// match the query's filters (not its limit), how many rows were read, and the id of the last row read.
    /// </summary>
    internal static async Task<(List<JournalRecord> Matches, int Rows, long LastRead)> ReadPageAsync(NpgsqlConnection connection, string schema,
        JournalQuery query, long afterId, long lastId, bool descending, CancellationToken cancellationToken)
    {
        var network = Normalize(query.From);
        bool exactAddress = network is { } n && n.PrefixLength == (n.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        var sql = new StringBuilder($"SELECT {Columns} FROM {PostgresJournalSchema.Quote(schema)}.messages WHERE id > @after AND id <= @last");
        await using var command = new NpgsqlCommand { Connection = connection };
        command.Parameters.Add(new NpgsqlParameter<long>("after", afterId));
        command.Parameters.Add(new NpgsqlParameter<long>("last", lastId));
        if (query.Since is { } since)
        {
            sql.Append(" AND received_us >= @since");
            command.Parameters.Add(new NpgsqlParameter<long>("since", UnixMicros.From(since)));
        }

        if (query.Until is { } until)
        {
            sql.Append(" AND received_us < @until");
            command.Parameters.Add(new NpgsqlParameter<long>("until", UnixMicros.From(until)));
        }

        if (exactAddress)
        {
            sql.Append(" AND client_address = @from");
            command.Parameters.Add(new NpgsqlParameter<string>("from", network!.Value.BaseAddress.ToString()));
        }

        if (query.Node is { } node)
        {
            sql.Append(" AND node_name = @node");
            command.Parameters.Add(new NpgsqlParameter<string>("node", node));
        }

        sql.Append(descending ? " ORDER BY id DESC LIMIT " : " ORDER BY id LIMIT ").Append(PageSize);
        command.CommandText = sql.ToString();

        var matches = new List<JournalRecord>();
        int rows = 0;
        long lastRead = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows++;
            lastRead = reader.GetInt64(0);
            // A network filter runs here, before the row's bytes are decoded, so skipping a row stays cheap. Text
            // search runs here too: the table stores the raw bytes only, decoded with each row's code page.
            // A unix-socket connection's addresses are no IP addresses (unix:/path, unix:pid=42,uid=0): kept as text.
            var (client, clientText) = JournalRecord.ParseStoredAddress(reader.GetString(5));
            var (local, localText) = JournalRecord.ParseStoredAddress(reader.GetString(3));
            if (network is { } net && (clientText is not null || (!exactAddress && !net.Contains(client)))) // no network holds a unix peer
            {
                continue;
            }

            var record = new JournalRecord(
                id: lastRead,
                receivedAt: UnixMicros.ToTime(reader.GetInt64(2)),
                localAddress: local,
                localPort: reader.GetInt32(4),
                clientAddress: client,
                clientPort: reader.GetInt32(6),
                connectionId: reader.GetInt64(7),
                codePage: reader.GetInt32(8),
                raw: reader.GetFieldValue<byte[]>(10))
            {
                NodeName = reader.GetString(1),
                UniqueId = reader.IsDBNull(9) ? null : reader.GetFieldValue<byte[]>(9),
                LocalAddressText = localText,
                ClientAddressText = clientText,
            };
            if (query.Contains is { } contains && !record.Text.Contains(contains, StringComparison.Ordinal))
            {
                continue;
            }

            matches.Add(record);
        }

        return (matches, rows, lastRead);
    }

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
