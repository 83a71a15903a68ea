using System.Net;
using SQLitePCL;
using TcpTalk.Messages;

/// <summary>
/// Baseline: journal schema 1 as shipped (one 10-column row per message with text addresses and a decoded text
/// copy), written with its own SQL so the bench needs no internals.
/// </summary>
internal sealed class RowPerMessageStore : SqliteStore
{
    private readonly sqlite3_stmt _insert;
    private long _nextId = 1;

    public RowPerMessageStore(string path, bool full)
        : base(path, full, """
            CREATE TABLE messages (id INTEGER PRIMARY KEY, received_us INTEGER NOT NULL, local_address TEXT NOT NULL,
              local_port INTEGER NOT NULL, client_address TEXT NOT NULL, client_port INTEGER NOT NULL,
              connection_id INTEGER NOT NULL, code_page INTEGER NOT NULL, raw BLOB NOT NULL, text TEXT NOT NULL) STRICT;
            """)
    {
        _insert = Prepare("INSERT INTO messages VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    }

    protected override void Insert(MessageBatch batch)
    {
        var c = batch.Connection;
        Bind(raw.sqlite3_bind_int64(_insert, 2, batch.ReceivedAt.ToUnixTimeMilliseconds() * 1000));
        BindAddress(3, c.LocalAddress);
        Bind(raw.sqlite3_bind_int(_insert, 4, c.LocalPort));
        BindAddress(5, c.RemoteAddress);
        Bind(raw.sqlite3_bind_int(_insert, 6, c.RemotePort));
        Bind(raw.sqlite3_bind_int64(_insert, 7, c.Id));
        Bind(raw.sqlite3_bind_int(_insert, 8, batch.Encoding.CodePage));
        for (int i = 0; i < batch.Count; i++)
        {
            var message = batch[i];
            Bind(raw.sqlite3_bind_int64(_insert, 1, _nextId++));
            Bind(raw.sqlite3_bind_blob(_insert, 9, message));
            Bind(raw.sqlite3_bind_text(_insert, 10, message)); // valid UTF-8 is its own text, as the journal does
            Step(_insert);
        }
    }

    public override void Dispose()
    {
        _insert.Dispose();
        base.Dispose();
    }

    private void BindAddress(int index, IPAddress address)
    {
        Span<byte> text = stackalloc byte[80];
        address.TryFormat(text, out int length);
        Bind(raw.sqlite3_bind_text(_insert, index, text[..length]));
    }
}
