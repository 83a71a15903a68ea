using System.Buffers.Binary;
using System.Net;
using System.Runtime.CompilerServices;
using SQLitePCL;
using TcpTalk.Journal;
using TcpTalk.Messages;

/// <summary>
/// Design A: SQLite with one row per read batch, encoded by the journal's own <see cref="JournalBatchFormat"/> (the
/// messages' lengths as varints and their bytes back to back, the row's CRC-32C, receive time in microseconds), so the
/// rows measured are the shipped format's, and a connections table (no time index: --since seeks by binary search over first_id), so endpoints and code page are stored once per connection.
/// </summary>
internal sealed class BatchRowStore : SqliteStore
{
    private readonly sqlite3_stmt _insertBatch;
    private readonly sqlite3_stmt _insertConnection;
    private readonly ConditionalWeakTable<ConnectionInfo, StrongBox<long>> _connections = new();
    private byte[] _lengths = new byte[4096];
    private byte[] _bytes = new byte[64 * 1024];
    private long _nextId = 1;
    private long _nextConnection = 1;

    public BatchRowStore(string path, bool full)
        : base(path, full, """
            CREATE TABLE connections (ref INTEGER PRIMARY KEY, connection_id INTEGER NOT NULL, local_address TEXT NOT NULL,
              local_port INTEGER NOT NULL, client_address TEXT NOT NULL, client_port INTEGER NOT NULL,
              code_page INTEGER NOT NULL) STRICT;
            CREATE TABLE batches (first_id INTEGER PRIMARY KEY, count INTEGER NOT NULL, received_us INTEGER NOT NULL,
              connection INTEGER NOT NULL, lengths BLOB NOT NULL, raw BLOB NOT NULL, crc INTEGER NOT NULL) STRICT;
            """)
    {
        _insertBatch = Prepare("INSERT INTO batches VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        _insertConnection = Prepare("INSERT INTO connections VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    }

    protected override void Insert(MessageBatch batch)
    {
        long connection = ConnectionRef(batch);
        int lengthBytes = 0;
        int total = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            var message = batch[i];
            EnsureRoom(ref _lengths, lengthBytes + 5);
            lengthBytes += JournalBatchFormat.WriteVarint(_lengths.AsSpan(lengthBytes), (uint)message.Length);
            EnsureRoom(ref _bytes, total + message.Length);
            message.CopyTo(_bytes.AsSpan(total));
            total += message.Length;
        }

        var lengths = _lengths.AsSpan(0, lengthBytes);
        var bytes = _bytes.AsSpan(0, total);
        long received = UnixMicros.From(batch.ReceivedAt);
        Bind(raw.sqlite3_bind_int64(_insertBatch, 1, _nextId));
        Bind(raw.sqlite3_bind_int(_insertBatch, 2, batch.Count));
        Bind(raw.sqlite3_bind_int64(_insertBatch, 3, received));
        Bind(raw.sqlite3_bind_int64(_insertBatch, 4, connection));
        Bind(raw.sqlite3_bind_blob(_insertBatch, 5, lengths));
        // An empty span would bind NULL (a null pointer), as in the journal: bind an empty value explicitly.
        Bind(bytes.IsEmpty ? raw.sqlite3_bind_zeroblob(_insertBatch, 6, 0) : raw.sqlite3_bind_blob(_insertBatch, 6, bytes));
        Bind(raw.sqlite3_bind_int64(_insertBatch, 7, JournalBatchFormat.Checksum(_nextId, batch.Count, received, connection, lengths, bytes)));
        Step(_insertBatch);
        _nextId += batch.Count;
    }

    public override void Dispose()
    {
        _insertBatch.Dispose();
        _insertConnection.Dispose();
        base.Dispose();
    }

    private long ConnectionRef(MessageBatch batch)
    {
        if (_connections.TryGetValue(batch.Connection, out var known))
        {
            return known.Value;
        }

        var c = batch.Connection;
        long id = _nextConnection++;
        Bind(raw.sqlite3_bind_int64(_insertConnection, 1, id));
        Bind(raw.sqlite3_bind_int64(_insertConnection, 2, c.Id));
        Bind(raw.sqlite3_bind_text(_insertConnection, 3, c.LocalAddress.ToString()));
        Bind(raw.sqlite3_bind_int(_insertConnection, 4, c.LocalPort));
        Bind(raw.sqlite3_bind_text(_insertConnection, 5, c.RemoteAddress.ToString()));
        Bind(raw.sqlite3_bind_int(_insertConnection, 6, c.RemotePort));
        Bind(raw.sqlite3_bind_int(_insertConnection, 7, batch.Encoding.CodePage));
        Step(_insertConnection);
        _connections.Add(c, new StrongBox<long>(id));
        return id;
    }

    private static void EnsureRoom(ref byte[] buffer, int needed)
    {
        if (buffer.Length < needed)
        {
            Array.Resize(ref buffer, Math.Max(needed, buffer.Length * 2));
        }
    }
}
