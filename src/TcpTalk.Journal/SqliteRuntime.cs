using Microsoft.Data.Sqlite;

namespace TcpTalk.Journal;

/// <summary>Opening SQLite connections the way the journal needs them, and SQLite's one-time native set-up.</summary>
internal static class SqliteRuntime
{
    private static readonly Lock s_gate = new();
    private static volatile bool s_initialized;

    /// <summary>
    /// Sets up the bundled native SQLite. Microsoft.Data.Sqlite would find the bundle by reflection on first use;
    /// calling it directly keeps NativeAOT and trimming from dropping it.
    /// </summary>
    public static void EnsureInitialized()
    {
        if (s_initialized)
        {
            return;
        }

        lock (s_gate)
        {
            if (!s_initialized)
            {
                SQLitePCL.Batteries_V2.Init();
                s_initialized = true;
            }
        }
    }

    /// <summary>
    /// Opens a connection of its own: never pooled, because a pooled connection would keep the file (and its WAL)
    /// open after the journal is disposed, and the journal's pragmas are per connection anyway.
    /// </summary>
    public static SqliteConnection Open(string path, SqliteOpenMode mode, int busyTimeoutSeconds)
    {
        EnsureInitialized();
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = mode,
            Pooling = false,
            Cache = SqliteCacheMode.Private,
            DefaultTimeout = busyTimeoutSeconds,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>One sentence for an SQLite failure, in words an operator can act on.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        SqliteException { SqliteErrorCode: 13 } => "the disk is full",                                    // SQLITE_FULL
        SqliteException { SqliteErrorCode: 5 or 6 } => "another process holds the journal's write lock",   // BUSY, LOCKED
        SqliteException { SqliteErrorCode: 8 } => "the journal file is read-only",                         // READONLY
        SqliteException { SqliteErrorCode: 10 } => "an I/O error occurred",                                // IOERR
        SqliteException { SqliteErrorCode: 11 or 26 } => "the file is damaged or not an SQLite database",  // CORRUPT, NOTADB
        SqliteException { SqliteErrorCode: 14 } => "the file cannot be opened",                            // CANTOPEN
        SqliteException e => e.Message.TrimEnd('.'),
        _ => exception.Message.TrimEnd('.'),
    };
}
