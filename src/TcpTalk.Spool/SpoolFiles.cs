using Microsoft.Data.Sqlite;
using TcpTalk.Journal;

namespace TcpTalk.Spool;

/// <summary>The spool's file handling, on the journal's SQLite pieces: its lock, its native SQLite set-up, its error sentences.</summary>
internal static class SpoolFiles
{
    /// <summary>Takes the one-writer lock of the spool file at <paramref name="path"/> (the journal's lock file scheme).</summary>
    public static IDisposable Lock(string path) => JournalLock.Acquire(path);

    /// <summary>Opens the file with the crash rules: WAL, <c>synchronous = FULL</c> (every commit fsynced).</summary>
    /// <exception cref="SpoolUnavailableException">It cannot be opened.</exception>
    public static SqliteConnection OpenDatabase(string path, string directory, bool create)
    {
        SqliteConnection? connection = null;
        try
        {
            connection = SqliteRuntime.Open(path, create ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite, busyTimeoutSeconds: 5);
            using var pragmas = connection.CreateCommand();
            pragmas.CommandText = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;";
            pragmas.ExecuteNonQuery();
            return connection;
        }
        catch (SqliteException e)
        {
            connection?.Dispose();
            throw new SpoolUnavailableException($"spool {directory} cannot be opened: {SqliteRuntime.Describe(e)}", e);
        }
    }

    /// <summary>Creates the table in a new file, or checks that an existing one is a spool of this version.</summary>
    public static void Prepare(SqliteConnection connection, string directory, int applicationId, int version)
    {
        try
        {
            if (Pragma(connection, "application_id") == 0 && Pragma(connection, "user_version") == 0 && !HasTables(connection))
            {
                using var create = connection.CreateCommand();
                create.CommandText =
                    "CREATE TABLE spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, appended_us INTEGER NOT NULL, crc INTEGER NOT NULL, payload BLOB NOT NULL);" +
                    $"PRAGMA application_id = {applicationId}; PRAGMA user_version = {version};";
                create.ExecuteNonQuery();
            }
        }
        catch (SqliteException e)
        {
            throw new SpoolUnavailableException($"spool {directory} cannot be created: {SqliteRuntime.Describe(e)}", e);
        }

        Check(connection, directory, applicationId, version);
    }

    /// <summary>Throws unless the file is a spool of <paramref name="version"/>.</summary>
    public static void Check(SqliteConnection connection, string directory, int applicationId, int version)
    {
        try
        {
            int id = Pragma(connection, "application_id");
            int found = Pragma(connection, "user_version");
            if (id != applicationId)
            {
                throw new SpoolUnavailableException($"spool {directory}: {SqliteMessageSpool.FileName} is not a tcptalk spool");
            }

            if (found != version)
            {
                throw new SpoolUnavailableException($"spool {directory}: {SqliteMessageSpool.FileName} has format {found}; this tcptalk reads format {version}");
            }
        }
        catch (SqliteException e)
        {
            throw new SpoolUnavailableException($"spool {directory} cannot be read: {SqliteRuntime.Describe(e)}", e);
        }
    }

    private static int Pragma(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static bool HasTables(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM sqlite_master";
        return (long)command.ExecuteScalar()! > 0;
    }
}
