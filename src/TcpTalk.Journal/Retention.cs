using Microsoft.Data.Sqlite;

namespace TcpTalk.Journal;

/// <summary>
/// Drops the oldest stored data whole, as <see cref="JournalOptions.MaxAge"/> and <see cref="JournalOptions.MaxBytes"/>
/// say: version 1's rows first (they are the oldest), then batch rows in id order, never the newest batch row (it
/// carries the last id, so ids keep growing after everything older is gone). Runs on the writer's connection in a
/// transaction of its own, between groups.
/// </summary>
internal static class Retention
{
    private const int Chunk = 16;

    /// <summary>Applies the limits; returns how many messages were dropped and the id of the oldest one left.</summary>
    public static (long Dropped, long OldestKept) Enforce(SqliteConnection connection, JournalOptions options, long nowMicros)
    {
        long dropped = 0;
        using var transaction = connection.BeginTransaction(deferred: false);
        long newest = Scalar(connection, "SELECT coalesce(max(first_id), 0) FROM batches");
        if (options.MaxAge is { } age)
        {
            long cutoff = nowMicros - (long)age.TotalMicroseconds;
            dropped += Execute(connection, "DELETE FROM messages WHERE received_us < $cutoff AND id < $keep", ("$cutoff", cutoff), ("$keep", LegacyKeptFrom(connection, newest)));
            long boundary = Math.Min(BatchSeek.FirstReceivedFrom(connection, cutoff), newest);
            dropped += DropBatchesBelow(connection, boundary);
        }

        if (options.MaxBytes is { } maxBytes)
        {
            long target = maxBytes / 10 * 9;
            while (UsedBytes(connection) > target)
            {
                long legacy = Execute(connection, "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT 1000) AND id < $keep", ("$keep", LegacyKeptFrom(connection, newest)));
                if (legacy > 0)
                {
                    dropped += legacy;
                    continue;
                }

                // As many of the oldest rows as the excess needs, judged by the size of the oldest few (length() of a
                // blob reads no overflow page), so a drop takes about what it must, whatever the rows' sizes.
                long excess = UsedBytes(connection) - target;
                long rowBytes = Math.Max(1, Scalar(connection, $"SELECT coalesce(avg(length(raw) + length(lengths) + 40), 1) FROM (SELECT raw, lengths FROM batches ORDER BY first_id LIMIT {Chunk})"));
                long rows = Math.Clamp(excess / rowBytes + 1, 1, 100_000);
                long boundary = Scalar(connection, "SELECT coalesce(max(first_id), 0) + 1 FROM (SELECT first_id FROM batches ORDER BY first_id LIMIT $rows)", ("$rows", rows));
                long removed = DropBatchesBelow(connection, Math.Min(boundary, newest));
                if (removed == 0)
                {
                    break; // only the newest row is left
                }

                dropped += removed;
            }
        }

        if (dropped > 0)
        {
            // Connection rows no remaining row refers to. Refs grow with time, so everything below the smallest ref
            // still used is unused (one pass over the rows' headers; the bytes are not read).
            Execute(connection, "DELETE FROM connections WHERE ref < (SELECT coalesce(min(connection), 9223372036854775807) FROM batches)");
        }

        long oldest = Scalar(connection, "SELECT coalesce((SELECT min(id) FROM messages), (SELECT min(first_id) FROM batches), 0)");
        transaction.Commit();
        return (dropped, oldest);
    }

    /// <summary>Version 1 rows at or above this id stay: all may go once a batch row holds the last id, else the last.</summary>
    private static long LegacyKeptFrom(SqliteConnection connection, long newestBatch) =>
        newestBatch > 0 ? long.MaxValue : Scalar(connection, "SELECT coalesce(max(id), 0) FROM messages");

    private static long DropBatchesBelow(SqliteConnection connection, long boundary)
    {
        long messages = Scalar(connection, "SELECT coalesce(sum(count), 0) FROM batches WHERE first_id < $b", ("$b", boundary));
        Execute(connection, "DELETE FROM batches WHERE first_id < $b", ("$b", boundary));
        return messages;
    }

    private static long UsedBytes(SqliteConnection connection) =>
        (Scalar(connection, "PRAGMA page_count") - Scalar(connection, "PRAGMA freelist_count")) * Scalar(connection, "PRAGMA page_size");

    private static long Scalar(SqliteConnection connection, string sql, params (string Name, long Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static long Execute(SqliteConnection connection, string sql, params (string Name, long Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteNonQuery();
    }
}
