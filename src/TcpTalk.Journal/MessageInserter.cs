using System.Net;
using System.Text;
using System.Text.Unicode;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using TcpTalk.Messages;

namespace TcpTalk.Journal;

/// <summary>
/// The writer connection's prepared statements (BEGIN IMMEDIATE, the INSERT, COMMIT, ROLLBACK), driven through
/// SQLitePCL's native API: binding a message's bytes straight from a span allocates nothing, where ADO.NET parameters
/// would need an owned array and a boxed value per column per row. The writer is one thread, so its cost per row is
/// the journal's throughput.
/// </summary>
internal sealed class MessageInserter : IDisposable
{
    private const string InsertSql = """
        INSERT INTO messages (id, received_us, local_address, local_port, client_address, client_port, connection_id, code_page, raw, text)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
        """;

    private const int Utf8CodePage = 65001;

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _begin;
    private readonly sqlite3_stmt _commit;
    private readonly sqlite3_stmt _rollback;
    private readonly sqlite3_stmt _insert;

    public MessageInserter(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the connection is not open");
        _begin = Prepare("BEGIN IMMEDIATE"); // take the write lock at the start, not half way
        _commit = Prepare("COMMIT");
        _rollback = Prepare("ROLLBACK");
        _insert = Prepare(InsertSql);
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

    /// <summary>Inserts the batch's messages with ids from <paramref name="firstId"/>; returns the next free id.</summary>
    public long Insert(MessageBatch batch, long firstId)
    {
        var connection = batch.Connection;
        Check(raw.sqlite3_bind_int64(_insert, 2, UnixMicros.From(batch.ReceivedAt)));
        BindAddress(3, connection.LocalAddress);
        Check(raw.sqlite3_bind_int(_insert, 4, connection.LocalPort));
        BindAddress(5, connection.RemoteAddress);
        Check(raw.sqlite3_bind_int(_insert, 6, connection.RemotePort));
        Check(raw.sqlite3_bind_int64(_insert, 7, connection.Id));
        Check(raw.sqlite3_bind_int(_insert, 8, batch.Encoding.CodePage));
        var encoding = batch.Encoding;
        long id = firstId;
        for (int i = 0; i < batch.Count; i++)
        {
            var message = batch[i];
            Check(raw.sqlite3_bind_int64(_insert, 1, id++));
            // An empty span would reach SQLite as a null pointer, which binds NULL: bind an empty value explicitly.
            Check(message.IsEmpty ? raw.sqlite3_bind_zeroblob(_insert, 9, 0) : raw.sqlite3_bind_blob(_insert, 9, message));
            if (message.IsEmpty)
            {
                Check(raw.sqlite3_bind_text(_insert, 10, string.Empty));
            }
            else if (encoding.CodePage == Utf8CodePage && Utf8.IsValid(message))
            {
                Check(raw.sqlite3_bind_text(_insert, 10, message)); // valid UTF-8 is its own decoded text
            }
            else
            {
                Check(raw.sqlite3_bind_text(_insert, 10, Decode(message, ref encoding)));
            }

            Step(_insert);
        }

        return id;
    }

    public void Dispose()
    {
        _insert.Dispose();
        _rollback.Dispose();
        _commit.Dispose();
        _begin.Dispose();
    }

    private void BindAddress(int index, IPAddress address)
    {
        Span<byte> text = stackalloc byte[80]; // the longest IPv6 text with a scope id is under 70 bytes
        if (!address.TryFormat(text, out int length))
        {
            Check(raw.sqlite3_bind_text(_insert, index, address.ToString()));
            return;
        }

        Check(raw.sqlite3_bind_text(_insert, index, text[..length]));
    }

    private static string Decode(ReadOnlySpan<byte> bytes, ref Encoding encoding)
    {
        try
        {
            return encoding.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            // A caller's encoding that throws on invalid bytes: the raw column keeps them; the text gets U+FFFD.
            var lenient = (Encoding)encoding.Clone();
            lenient.DecoderFallback = new DecoderReplacementFallback("\uFFFD");
            encoding = lenient;
            return encoding.GetString(bytes);
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
            Throw(rc);
        }
    }

    private void Throw(int rc) => throw Error(rc);

    private SqliteException Error(int rc) =>
        new($"SQLite Error {rc}: '{raw.sqlite3_errmsg(_db).utf8_to_string()}'.", rc, raw.sqlite3_extended_errcode(_db));
}
