using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// The writer connection's prepared statements (BEGIN IMMEDIATE, the two INSERTs, COMMIT, ROLLBACK), driven through
/// SQLitePCL's native API, and the rows of schema 2: one <c>batches</c> row per read, one <c>connections</c> row per
/// connection the first time it stores something. Binding from spans allocates nothing per message; the bytes are
/// copied once, into a scratch buffer that lays them back to back, and SQLite copies them into its page.
/// </summary>
/// <remarks>
/// The connection refs this inserter knows are valid only on its connection's committed state: after any failure
/// the journal disposes it (a rolled-back transaction may have taken connection rows with it) and the next one
/// stores each connection again, which costs one small row.
/// </remarks>
internal sealed class BatchInserter : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _begin;
    private readonly sqlite3_stmt _commit;
    private readonly sqlite3_stmt _rollback;
    private readonly sqlite3_stmt _insertBatch;
    private readonly sqlite3_stmt _insertConnection;
    private readonly ConditionalWeakTable<ConnectionInfo, StrongBox<long>> _connections = new();
    private readonly bool _storesUniqueId;
    private byte[] _lengths = new byte[1024];
    private byte[] _raw = new byte[16 * 1024];

    public BatchInserter(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        _begin = Prepare("BEGIN IMMEDIATE"); // take the write lock at the start, not half way
        _commit = Prepare("COMMIT");
        _rollback = Prepare("ROLLBACK");
        _insertBatch = Prepare("INSERT INTO batches (first_id, count, received_us, connection, lengths, raw, crc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        // A file whose schema steps end before version 3 (tests make such files) has no unique_id column.
        _storesUniqueId = HasColumn(connection, "connections", "unique_id");
        _insertConnection = Prepare(_storesUniqueId
            ? "INSERT INTO connections (connection_id, local_address, local_port, client_address, client_port, code_page, unique_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
            : "INSERT INTO connections (connection_id, local_address, local_port, client_address, client_port, code_page) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
    }

    public void Begin() => Step(_begin);

    /// <summary>The commit point: see <see cref="SqliteMessageJournal"/>'s remarks for what is on disk when this returns.</summary>
    public void Commit() => Step(_commit);

    /// <summary>Rolls back the open transaction, if SQLite has not already done so (it does on some errors).</summary>
    public void Rollback()
    {
        if (raw.sqlite3_get_autocommit(_db) == 0)
        {
            raw.sqlite3_step(_rollback);
            raw.sqlite3_reset(_rollback);
        }
    }

    /// <summary>Stores the batch as one row with ids from <paramref name="firstId"/>; returns the next free id.</summary>
    public long Insert(MessageBatch batch, long firstId)
    {
        long connection = ConnectionRef(batch);
        int lengthBytes = 0;
        int rawBytes = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            var message = batch[i];
            EnsureRoom(ref _lengths, lengthBytes + 5);
            lengthBytes += JournalBatchFormat.WriteVarint(_lengths.AsSpan(lengthBytes), (uint)message.Length);
            EnsureRoom(ref _raw, rawBytes + message.Length);
            message.CopyTo(_raw.AsSpan(rawBytes));
            rawBytes += message.Length;
        }

        var lengths = _lengths.AsSpan(0, lengthBytes);
        var bytes = _raw.AsSpan(0, rawBytes);
        long received = UnixMicros.From(batch.ReceivedAt);
        Check(raw.sqlite3_bind_int64(_insertBatch, 1, firstId));
        Check(raw.sqlite3_bind_int64(_insertBatch, 2, batch.Count));
        Check(raw.sqlite3_bind_int64(_insertBatch, 3, received));
        Check(raw.sqlite3_bind_int64(_insertBatch, 4, connection));
        Check(raw.sqlite3_bind_blob(_insertBatch, 5, lengths));
        // An empty span would reach SQLite as a null pointer, which binds NULL: bind an empty value explicitly.
        Check(bytes.IsEmpty ? raw.sqlite3_bind_zeroblob(_insertBatch, 6, 0) : raw.sqlite3_bind_blob(_insertBatch, 6, bytes));
        Check(raw.sqlite3_bind_int64(_insertBatch, 7, JournalBatchFormat.Checksum(firstId, batch.Count, received, connection, lengths, bytes)));
        Step(_insertBatch);
        return firstId + batch.Count;
    }

    public void Dispose()
    {
        _insertConnection.Dispose();
        _insertBatch.Dispose();
        _rollback.Dispose();
        _commit.Dispose();
        _begin.Dispose();
    }

    private long ConnectionRef(MessageBatch batch)
    {
        if (_connections.TryGetValue(batch.Connection, out var known))
        {
            return known.Value;
        }

        var c = batch.Connection;
        Check(raw.sqlite3_bind_int64(_insertConnection, 1, c.Id));
        Check(raw.sqlite3_bind_text(_insertConnection, 2, c.LocalAddressText));
        Check(raw.sqlite3_bind_int(_insertConnection, 3, c.LocalPort));
        Check(raw.sqlite3_bind_text(_insertConnection, 4, c.RemoteAddressText));
        Check(raw.sqlite3_bind_int(_insertConnection, 5, c.RemotePort));
        Check(raw.sqlite3_bind_int(_insertConnection, 6, batch.Encoding.CodePage));
        if (_storesUniqueId)
        {
            Check(c.UniqueId is { } uniqueId ? raw.sqlite3_bind_blob(_insertConnection, 7, uniqueId) : raw.sqlite3_bind_null(_insertConnection, 7));
        }

        Step(_insertConnection);
        long id = raw.sqlite3_last_insert_rowid(_db);
        _connections.AddOrUpdate(c, new StrongBox<long>(id));
        return id;
    }

    private static bool HasColumn(SqliteConnection connection, string table, string column)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM pragma_table_info($table) WHERE name = $column";
        command.Parameters.AddWithValue("$table", table);
        command.Parameters.AddWithValue("$column", column);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture) > 0;
    }

    private static void EnsureRoom(ref byte[] buffer, int needed)
    {
        if (buffer.Length < needed)
        {
            Array.Resize(ref buffer, Math.Max(needed, buffer.Length * 2));
        }
    }

    private sqlite3_stmt Prepare(string sql)
    {
        int rc = raw.sqlite3_prepare_v2(_db, sql, out var statement);
        if (rc != raw.SQLITE_OK)
        {
            var error = Error(rc);
            statement.Dispose();
            throw error;
        }

        return statement;
    }

    private void Step(sqlite3_stmt statement)
    {
        int rc = raw.sqlite3_step(statement);
        if (rc != raw.SQLITE_DONE)
        {
            var error = Error(rc);
            raw.sqlite3_reset(statement);
            throw error;
        }

        raw.sqlite3_reset(statement);
    }

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            throw Error(rc);
        }
    }

    private SqliteException Error(int rc) =>
        new($"SQLite Error {rc}: '{raw.sqlite3_errmsg(_db).utf8_to_string()}'.", rc, raw.sqlite3_extended_errcode(_db));
}
