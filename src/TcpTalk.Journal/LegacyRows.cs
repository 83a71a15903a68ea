using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Data.Sqlite;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// Reads schema 1's <c>messages</c> table (one row per message), as every earlier tcptalk wrote it: an upgraded
/// journal keeps those rows there, below the ids of its batch rows, and a version 1 file is read as it is.
/// </summary>
internal static class LegacyRows
{
    /// <summary>Rows fetched per read transaction.</summary>
    private const int PageSize = 1000;

    private const string Columns = "id, received_us, local_address, local_port, client_address, client_port, connection_id, code_page, raw, text";

    public static async IAsyncEnumerable<JournalRecord> ReadAsync(SqliteConnection connection, RecordFilter filter, long afterId, long lastId,
        bool descending, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT {Columns} FROM messages WHERE id > $after AND id <= $last");
        filter.AppendSql(sql, "received_us", "client_address");
        if (filter.Contains is not null)
        {
            sql.Append(" AND instr(text, $contains) > 0");
            command.Parameters.AddWithValue("$contains", filter.Contains);
        }

        sql.Append(descending ? " ORDER BY id DESC LIMIT $page" : " ORDER BY id LIMIT $page");
        command.CommandText = sql.ToString();
        var low = command.Parameters.Add("$after", SqliteType.Integer);
        var high = command.Parameters.Add("$last", SqliteType.Integer);
        command.Parameters.AddWithValue("$page", PageSize);
        filter.AddParameters(command);
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
                    if (!filter.MatchesNetwork(RecordFilter.ParseAddress(reader.GetString(4))))
                    {
                        continue;
                    }

                    page.Add(new JournalRecord(
                        id: reader.GetInt64(0),
                        receivedAt: UnixMicros.ToTime(reader.GetInt64(1)),
                        localAddress: RecordFilter.ParseAddress(reader.GetString(2)),
                        localPort: reader.GetInt32(3),
                        clientAddress: RecordFilter.ParseAddress(reader.GetString(4)),
                        clientPort: reader.GetInt32(5),
                        connectionId: reader.GetInt64(6),
                        codePage: reader.GetInt32(7),
                        raw: (byte[])reader.GetValue(8),
                        text: reader.GetString(9)));
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
}
