using Microsoft.Data.Sqlite;

namespace TcpTalk.Journal;

/// <summary>
/// The journal's tables and how a file of any older version is brought up to date. The version lives in the SQLite
/// header (<c>PRAGMA user_version</c>) and the file is marked as a tcptalk journal by <c>PRAGMA application_id</c>;
/// docs/JOURNAL.md describes every column.
/// </summary>
internal static class JournalSchema
{
    /// <summary>"TTJ1" in ASCII: marks the file as a tcptalk journal for <c>file(1)</c> and for us.</summary>
    public const int ApplicationId = 0x54544A31;

    /// <summary>Version 1: one row per message.</summary>
    public const string Version1 = """
        CREATE TABLE messages (
            id             INTEGER PRIMARY KEY,  -- 1, 2, 3...: consecutive within a batch, increasing forever
            received_us    INTEGER NOT NULL,     -- UTC receive time, microseconds since 1970-01-01T00:00:00Z
            local_address  TEXT    NOT NULL,     -- the server address the client reached (IPv4-mapped shown as IPv4)
            local_port     INTEGER NOT NULL,
            client_address TEXT    NOT NULL,     -- the client's address as shown in the greeting and output
            client_port    INTEGER NOT NULL,
            connection_id  INTEGER NOT NULL,     -- the server process's connection number (restarts at 1)
            code_page      INTEGER NOT NULL,     -- the server's text encoding (65001 = UTF-8, 936 = GBK...)
            raw            BLOB    NOT NULL,     -- the message bytes exactly as received, terminator excluded
            text           TEXT    NOT NULL      -- raw decoded with code_page (invalid bytes replaced): for search
        ) STRICT;
        """;

    /// <summary>
    /// Version 2: one row per read batch, endpoints once per connection (bench/README.md, "Journal designs": 3x the
    /// rows per second of version 1 at a tenth of its CPU per message in stream mode). Version 1's <c>messages</c>
    /// table stays, with the rows it had: readers read it first (its ids are all below the batches').
    /// </summary>
    public const string Version2 = """
        CREATE TABLE connections (
            ref            INTEGER PRIMARY KEY,  -- the journal's number for one connection of one server run
            connection_id  INTEGER NOT NULL,     -- the server process's connection number (restarts at 1)
            local_address  TEXT    NOT NULL,     -- the server address the client reached (IPv4-mapped shown as IPv4)
            local_port     INTEGER NOT NULL,
            client_address TEXT    NOT NULL,     -- the client's address as shown in the greeting and output
            client_port    INTEGER NOT NULL,
            code_page      INTEGER NOT NULL      -- the server's text encoding (65001 = UTF-8, 936 = GBK...)
        ) STRICT;
        CREATE TABLE batches (
            first_id       INTEGER PRIMARY KEY,  -- id of the first message; the others follow consecutively
            count          INTEGER NOT NULL,     -- messages in the row (at least 1)
            received_us    INTEGER NOT NULL,     -- UTC receive time of the read, microseconds since 1970
            connection     INTEGER NOT NULL REFERENCES connections (ref),
            lengths        BLOB    NOT NULL,     -- each message's length, unsigned LEB128 varints, in order
            raw            BLOB    NOT NULL,     -- the messages' bytes exactly as received, back to back
            crc            INTEGER NOT NULL      -- CRC-32C of header, lengths and raw (JournalBatchFormat.Checksum)
        ) STRICT;
        """;

    /// <summary>
    /// Version 3: the PROXY protocol v2 UNIQUE_ID a balancer sent for a connection, once per connection beside its
    /// endpoints; NULL when there was none (every connection of a version 2 file, and every direct one).
    /// </summary>
    public const string Version3 = """
        ALTER TABLE connections ADD COLUMN unique_id BLOB;  -- PP2_TYPE_UNIQUE_ID (at most 128 bytes), or NULL
        """;

    /// <summary>
    /// The steps from each version to the next: <c>Steps[v]</c> turns version v into v + 1. Never edit a released
    /// step; append a new one (and say what it changes in docs/JOURNAL.md).
    /// </summary>
    public static IReadOnlyList<string> Steps { get; } = [Version1, Version2, Version3];

    /// <summary>
    /// The highest id stored, 0 for none: the larger of version 1's last row and the last message of the newest batch
    /// (both indexed lookups, no scan).
    /// </summary>
    public const string LastIdSql =
        "SELECT max((SELECT coalesce(max(id), 0) FROM messages), coalesce((SELECT first_id + count - 1 FROM batches ORDER BY first_id DESC LIMIT 1), 0))";

    /// <summary>The version this build writes and reads.</summary>
    public static int CurrentVersion => Steps.Count;

    /// <summary>What the file at hand is, read without changing it.</summary>
    public static (int Version, bool IsEmpty) Inspect(SqliteConnection connection, string path)
    {
        int applicationId = Pragma(connection, "application_id");
        int version = Pragma(connection, "user_version");
        bool isEmpty;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT count(*) FROM sqlite_schema";
            isEmpty = Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) == 0;
        }

        if (applicationId == 0 && version == 0 && isEmpty)
        {
            return (0, true);
        }

        if (applicationId != ApplicationId)
        {
            throw new JournalFormatException(path, $"{path} is an SQLite database but not a tcptalk journal (application_id {applicationId:x8}); give another --journal path");
        }

        return (version, false);
    }

    /// <summary>Refuses a file written by a newer tcptalk, whose schema this build cannot promise to keep intact.</summary>
    public static void RefuseNewer(string path, int version, int supported)
    {
        if (version > supported)
        {
            throw new JournalFormatException(path, $"journal {path} has schema version {version}, but this tcptalk knows versions up to {supported}; use a newer tcptalk");
        }
    }

    /// <summary>
    /// Brings the file to the last version of <paramref name="steps"/> inside one write transaction, so a crash
    /// half way leaves the old version intact. Returns the version the file had.
    /// </summary>
    public static int Upgrade(SqliteConnection connection, string path, IReadOnlyList<string> steps)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        var (version, _) = Inspect(connection, path); // again, now under the write lock
        RefuseNewer(path, version, steps.Count);
        for (int v = version; v < steps.Count; v++)
        {
            ExecuteScript(connection, steps[v]);
        }

        if (version < steps.Count)
        {
            ExecuteScript(connection, $"PRAGMA application_id = {ApplicationId}; PRAGMA user_version = {steps.Count};");
        }

        transaction.Commit();
        return version;
    }

    public static int Pragma(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA " + name;
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Runs every statement of <paramref name="sql"/> with sqlite3_exec, which stops at the first failing one and
    /// reports it. (Microsoft.Data.Sqlite's ExecuteNonQuery ignores an error in a statement that follows one that
    /// produced a row, as ALTER TABLE on a STRICT table does: a broken upgrade would be committed half done.)
    /// </summary>
    public static void ExecuteScript(SqliteConnection connection, string sql)
    {
        int rc = SQLitePCL.raw.sqlite3_exec(connection.Handle, sql, out string? error);
        if (rc != SQLitePCL.raw.SQLITE_OK)
        {
            throw new SqliteException($"SQLite Error {rc}: '{error}'.", rc);
        }
    }
}
