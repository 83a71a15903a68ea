using Microsoft.Data.Sqlite;

namespace TcpTalk.Journal;

/// <summary>Finding a batch row by receive time without an index: a binary search over first_id.</summary>
internal static class BatchSeek
{
    /// <summary>
    /// The first row received at or after <paramref name="micros"/>, found by binary search over first_id (receive
    /// times follow ids, up to the seek margin of <see cref="BatchRows"/>): about 25 rowid lookups on 10 million
    /// rows, and no index to maintain on the write path. <see cref="long.MaxValue"/> when no row is that recent.
    /// </summary>
    public static long FirstReceivedFrom(SqliteConnection connection, long micros)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT first_id, received_us FROM batches WHERE first_id >= $at ORDER BY first_id LIMIT 1";
        var at = command.Parameters.Add("$at", SqliteType.Integer);
        (long Id, long Micros)? RowFrom(long id)
        {
            at.Value = id;
            using var reader = command.ExecuteReader();
            return reader.Read() ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
        }

        if (RowFrom(long.MinValue) is not { } first)
        {
            return long.MaxValue;
        }

        if (first.Micros >= micros)
        {
            return first.Id;
        }

        long high;
        using (var last = connection.CreateCommand())
        {
            last.CommandText = "SELECT first_id, received_us FROM batches ORDER BY first_id DESC LIMIT 1";
            using var reader = last.ExecuteReader();
            reader.Read();
            if (reader.GetInt64(1) < micros)
            {
                return long.MaxValue;
            }

            high = reader.GetInt64(0);
        }

        // Invariant: the row at low is older than micros, the row at high is not, and low < high.
        long low = first.Id;
        while (true)
        {
            long middle = Math.Max(low + 1, low + ((high - low) / 2));
            var row = RowFrom(middle)!.Value; // exists: high >= middle is a row
            if (row.Id >= high)
            {
                return high; // no row between low and high
            }

            if (row.Micros >= micros)
            {
                high = row.Id;
            }
            else
            {
                low = row.Id;
            }
        }
    }
}
