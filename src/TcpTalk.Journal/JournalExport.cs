using Microsoft.Data.Sqlite;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// A consistent copy of a SQLite journal in a new file (<c>tcptalk messages --export</c>): SQLite's
/// <c>VACUUM INTO</c> on a read-only connection, so the copy is the journal as of one read transaction, whatever a
/// running server commits meanwhile, compacted (no free pages, no WAL), and in the same schema: <c>messages
/// --journal COPY</c> reads it, and so does the stock sqlite3 shell (docs/JOURNAL.md has the tables).
/// </summary>
public static class JournalExport
{
    /// <summary>
    /// Copies the journal at <paramref name="journalPath"/> to <paramref name="destination"/>, through a temporary
    /// file beside it that is renamed at the end, so the destination is never half written. Returns the last id in
    /// the copy (0 for an empty journal).
    /// </summary>
    /// <param name="journalPath">An existing journal (any schema this version reads).</param>
    /// <param name="destination">The file to write.</param>
    /// <param name="overwrite">Replace <paramref name="destination"/> if it exists; otherwise that is an error.</param>
    /// <exception cref="IOException"><paramref name="destination"/> exists and <paramref name="overwrite"/> is false (the message says so).</exception>
    /// <exception cref="FileNotFoundException">There is no journal at <paramref name="journalPath"/>.</exception>
    /// <exception cref="JournalFormatException">The file is not a tcptalk journal, or is from a newer tcptalk.</exception>
    /// <exception cref="JournalUnavailableException">The journal cannot be read or the copy cannot be written; the sentence says why.</exception>
    public static long Copy(string journalPath, string destination, bool overwrite)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        string target = Path.GetFullPath(destination);
        FileErrors.RefuseDirectory(target);
        if (File.Exists(target) && !overwrite)
        {
            throw new IOException($"{target} exists; pass --force to replace it");
        }

        using var reader = JournalReader.Open(journalPath);
        if (string.Equals(reader.Path, target, StringComparison.Ordinal))
        {
            throw new IOException($"{target} is the journal itself; export to another file");
        }

        string temporary = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.export-{Environment.ProcessId}");
        try
        {
            File.Delete(temporary);
            using (var connection = SqliteRuntime.Open(reader.Path, SqliteOpenMode.ReadOnly, busyTimeoutSeconds: 5))
            using (var vacuum = connection.CreateCommand())
            {
                vacuum.CommandText = "VACUUM INTO $target"; // one read transaction: a consistent snapshot
                vacuum.Parameters.AddWithValue("$target", temporary);
                vacuum.ExecuteNonQuery();
            }

            long lastId;
            using (var copy = JournalReader.Open(temporary))
            {
                lastId = copy.GetLastId();
            }

            File.Move(temporary, target, overwrite);
            return lastId;
        }
        catch (SqliteException e)
        {
            throw new JournalUnavailableException($"journal {reader.Path} could not be exported to {target}: {SqliteRuntime.Describe(e)}", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new JournalUnavailableException($"journal {reader.Path} could not be exported to {target}: permission denied", e);
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
