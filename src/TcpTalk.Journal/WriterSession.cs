using System.Globalization;
using Microsoft.Data.Sqlite;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// The journal writer's SQLite connection and its prepared insert, opened together and closed together. After a
/// failed commit the writer throws the whole session away (its state is unknown) and the next group opens a new one.
/// </summary>
internal sealed class WriterSession : IDisposable
{
    private WriterSession(SqliteConnection connection, BatchInserter inserter, long nextId)
    {
        Connection = connection;
        Inserter = inserter;
        NextId = nextId;
    }

    /// <summary>The writer's connection (WAL, the durability's synchronous mode).</summary>
    public SqliteConnection Connection { get; }

    /// <summary>The prepared statements that store one batch row (and its connection row).</summary>
    public BatchInserter Inserter { get; }

    /// <summary>The id the next stored message gets, read from the file when the session opened.</summary>
    public long NextId { get; }

    /// <summary>Opens and configures the writer's connection on <paramref name="path"/> and prepares the insert.</summary>
    /// <exception cref="SqliteException">The file cannot be opened or written.</exception>
    public static WriterSession Open(string path, JournalOptions options, JournalHooks hooks)
    {
        var connection = OpenConnection(path, options);
        BatchInserter? inserter = null;
        try
        {
            Configure(connection, options);
            hooks.ConnectionOpened?.Invoke(connection);
            long nextId;
            using (var max = connection.CreateCommand())
            {
                max.CommandText = JournalSchema.LastIdSql + " + 1";
                nextId = (long)max.ExecuteScalar()!;
            }

            inserter = new BatchInserter(connection);
            return new WriterSession(connection, inserter, nextId);
        }
        catch
        {
            inserter?.Dispose();
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Opens a connection for writing (created if missing), waiting for another writer's lock as configured.</summary>
    public static SqliteConnection OpenConnection(string path, JournalOptions options) =>
        SqliteRuntime.Open(path, SqliteOpenMode.ReadWriteCreate, options.LockTimeoutSeconds);

    /// <summary>Switches the file to WAL mode, which the journal's crash guarantees rest on.</summary>
    /// <exception cref="JournalUnavailableException">SQLite refused WAL mode there (a network file system, say).</exception>
    public static void SetJournalModeWal(SqliteConnection connection, string path)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode = WAL";
        string? mode = command.ExecuteScalar() as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new JournalUnavailableException($"journal {path} cannot be opened: SQLite refused WAL mode there (journal mode {mode}); put it on a local disk");
        }
    }

    /// <summary>Closes the insert and the connection; closing a broken connection can fail, and is ignored.</summary>
    public void Dispose()
    {
        try
        {
            Inserter.Dispose();
            Connection.Dispose();
        }
        catch (Exception)
        {
            // The handle is released regardless.
        }
    }

    private static void Configure(SqliteConnection connection, JournalOptions options)
    {
        // synchronous is per connection: NORMAL fsyncs only at checkpoints, FULL at every commit (docs/JOURNAL.md).
        // busy_timeout: SQLite itself waits that long for a write lock held by another process.
        // journal_size_limit truncates the WAL back to 64 MiB after a checkpoint that follows a burst.
        string synchronous = options.Durability == JournalDurability.Full ? "FULL" : "NORMAL";
        JournalSchema.ExecuteScript(connection, string.Create(CultureInfo.InvariantCulture,
            $"PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = {(long)options.LockTimeout.TotalMilliseconds}; PRAGMA journal_size_limit = {64 << 20};"));
    }
}
