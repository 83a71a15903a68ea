using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Data.Sqlite;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// Reads schema 2's <c>batches</c> rows (one per read) and hands out their messages as records, each row checked
/// against its CRC-32C first: a row that fails it, or whose lengths do not add up, is reported with its ids and
/// skipped, never returned in part.
/// </summary>
/// <remarks>
/// Rows are read in pages, each in its own short read transaction (one query), so a slow consumer never holds an
/// old snapshot. A page ends after <see cref="RowsPerPage"/> rows or once it holds <see cref="MessagesPerPage"/>
/// messages, whichever comes first, so memory stays bounded whatever the batch sizes.
/// </remarks>
internal sealed class BatchRows(SqliteConnection connection, RecordFilter filter, string path, Action<string> damaged, bool hasUniqueIds)
{
    private const int RowsPerPage = 256;
    private const int MessagesPerPage = 4000;

    /// <summary>
    /// How far before <c>--since</c> the seek starts. Ids follow commit order and receive times follow read order;
    /// the two differ only by how long a batch waited in the writer's queue, which the queue's bound and the lock
    /// timeout keep to seconds. The rows in this margin are filtered by time in SQL, without reading their bytes.
    /// </summary>
    private static readonly long s_seekMarginMicros = (long)TimeSpan.FromSeconds(10).TotalMicroseconds;

    private readonly string _columns = "b.first_id, b.count, b.received_us, b.connection, b.lengths, b.raw, b.crc, " +
                                       "c.connection_id, c.local_address, c.local_port, c.client_address, c.client_port, c.code_page, " +
                                       (hasUniqueIds ? "c.unique_id" : "NULL");

    private long _cachedRef = -1;
    private (IPAddress Local, IPAddress Client, string? LocalText, string? ClientText) _cachedAddresses;

    public async IAsyncEnumerable<JournalRecord> ReadAsync(long afterId, long lastId, bool descending,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long low = SeekStart(afterId);
        long high = lastId;
        using var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT {_columns} FROM batches b LEFT JOIN connections c ON c.ref = b.connection WHERE b.first_id >= $low AND b.first_id <= $high");
        filter.AppendSql(sql, "b.received_us", "c.client_address");
        sql.Append(descending ? " ORDER BY b.first_id DESC LIMIT $rows" : " ORDER BY b.first_id LIMIT $rows");
        command.CommandText = sql.ToString();
        var lowParameter = command.Parameters.Add("$low", SqliteType.Integer);
        var highParameter = command.Parameters.Add("$high", SqliteType.Integer);
        command.Parameters.AddWithValue("$rows", RowsPerPage);
        filter.AddParameters(command);
        while (low <= high)
        {
            lowParameter.Value = low;
            highParameter.Value = high;
            var page = new List<JournalRecord>();
            int rows = 0;
            long lastFirst = 0;
            bool full = false;
            var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    rows++;
                    lastFirst = reader.GetInt64(0);
                    int before = page.Count;
                    AddRow(reader, afterId, lastId, page);
                    if (descending)
                    {
                        page.Reverse(before, page.Count - before);
                    }

                    if (page.Count >= MessagesPerPage)
                    {
                        full = true;
                        break;
                    }
                }
            }

            if (rows == 0)
            {
                yield break;
            }

            // The next page continues past the last row read, matching or not.
            if (descending)
            {
                high = lastFirst - 1;
            }
            else
            {
                low = lastFirst + 1;
            }

            foreach (var record in page)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return record;
            }

            if (!full && rows < RowsPerPage)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// The first row worth reading: the one holding id <paramref name="afterId"/> + 1, or with <c>--since</c> the
    /// first row received within the seek margin before it (both one indexed lookup, never a scan).
    /// </summary>
    private long SeekStart(long afterId)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce((SELECT first_id FROM batches WHERE first_id <= $next ORDER BY first_id DESC LIMIT 1), 0)";
        command.Parameters.AddWithValue("$next", afterId + 1);
        long start = (long)command.ExecuteScalar()!;
        if (filter.SinceMicros is { } since)
        {
            start = Math.Max(start, BatchSeek.FirstReceivedFrom(connection, since - s_seekMarginMicros));
        }

        return start;
    }

    private void AddRow(SqliteDataReader reader, long afterId, long lastId, List<JournalRecord> page)
    {
        long first = reader.GetInt64(0);
        long count = reader.GetInt64(1);
        long received = reader.GetInt64(2);
        long connectionRef = reader.GetInt64(3);
        if (reader.IsDBNull(7))
        {
            Report(first, count, $"its connection row {connectionRef} is missing");
            return;
        }

        var (local, client, localText, clientText) = Addresses(reader, connectionRef);
        if (!filter.MatchesNetwork(client) || (clientText is not null && filter.Network is not null)) // no network holds a unix peer
        {
            return;
        }

        byte[] lengths = (byte[])reader.GetValue(4);
        byte[] raw = (byte[])reader.GetValue(5);
        long crc = reader.GetInt64(6);
        if (crc != JournalBatchFormat.Checksum(first, count, received, connectionRef, lengths, raw))
        {
            Report(first, count, "it fails its CRC-32C checksum");
            return;
        }

        var ranges = new (int Start, int Length)[Math.Clamp(count, 1, JournalBatchFormat.MaxCount)];
        if (JournalBatchFormat.TrySplit(count, lengths, raw.Length, ranges) is { } malformed)
        {
            Report(first, count, malformed);
            return;
        }

        var receivedAt = UnixMicros.ToTime(received);
        long connectionId = reader.GetInt64(7);
        int localPort = reader.GetInt32(9);
        int clientPort = reader.GetInt32(11);
        int codePage = reader.GetInt32(12);
        byte[]? uniqueId = reader.IsDBNull(13) ? null : (byte[])reader.GetValue(13);
        for (int i = 0; i < ranges.Length; i++)
        {
            long id = first + i;
            if (id <= afterId || id > lastId)
            {
                continue;
            }

            var message = raw.AsSpan(ranges[i].Start, ranges[i].Length);
            if (!filter.MatchesText(message, codePage))
            {
                continue;
            }

            page.Add(new JournalRecord(id, receivedAt, local, localPort, client, clientPort, connectionId, codePage,
                message.ToArray(), RecordFilter.Decode(message, codePage))
            {
                LocalAddressText = localText, ClientAddressText = clientText, UniqueId = uniqueId,
            });
        }
    }

    // A unix-socket connection's addresses are no IP addresses (unix:/path, unix:pid=42,uid=0): kept as text.
    private (IPAddress Local, IPAddress Client, string? LocalText, string? ClientText) Addresses(SqliteDataReader reader, long connectionRef)
    {
        if (connectionRef != _cachedRef)
        {
            var local = JournalRecord.ParseStoredAddress(reader.GetString(8));
            var client = JournalRecord.ParseStoredAddress(reader.GetString(10));
            _cachedAddresses = (local.Address, client.Address, local.Text, client.Text);
            _cachedRef = connectionRef;
        }

        return _cachedAddresses;
    }

    private void Report(long first, long count, string reason) =>
        damaged($"journal {path}: the row of message ids {first}-{first + count - 1} is damaged ({reason}); its messages are skipped");
}
