using Microsoft.Data.Sqlite;
using TcpTalk.Client;
using TcpTalk.Journal;
using TcpTalk.Messages;

namespace TcpTalk.Spool;

/// <summary>
/// A durable <see cref="IMessageSpool"/>: the file <c>spool.db</c> in a directory, SQLite in WAL mode with
/// <c>synchronous = FULL</c>, one row per message with its CRC-32C, held by one process at a time.
/// </summary>
/// <remarks>
/// <para>Commit point: <see cref="Append"/> writes its whole batch in one transaction, and with
/// <c>synchronous = FULL</c> the commit returns only after the write-ahead log is fsynced. A crash (SIGKILL, power)
/// before that leaves none of the batch, after it all of it: a caller that saw <see cref="Append"/> return may
/// forget the messages. <see cref="Acknowledge"/> deletes in one transaction too; losing that to a crash only means
/// the messages are sent again (at least once).</para>
/// <para>One writer: the directory's lock file (<c>spool.db.lock</c>, the journal's lock: an OS lock the OS drops
/// when the process dies, holding its pid) refuses a second opener at once with <see cref="SpoolInUseException"/>.
/// <see cref="ReadBacklog"/> reads without the lock, while a sender runs.</para>
/// </remarks>
public sealed class SqliteMessageSpool : IMessageSpool, IDisposable
{
    /// <summary>The file name inside the spool directory.</summary>
    public const string FileName = "spool.db";

    private const int ApplicationId = 0x54545350; // "TTSP": a tcptalk spool
    private const int SchemaVersion = 1;

    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;
    private readonly IDisposable _lock;
    private readonly TimeProvider _time;
    private long _messages;
    private long _bytes;
    private long _oldestMicros;
    private long _last;
    private bool _disposed;

    private SqliteMessageSpool(string directory, SqliteConnection connection, IDisposable writerLock, TimeProvider time)
    {
        Directory = directory;
        _connection = connection;
        _lock = writerLock;
        _time = time;
        (_messages, _bytes, _oldestMicros, _last) = Totals(connection);
    }

    /// <summary>The spool's directory, full path.</summary>
    public string Directory { get; }

    /// <inheritdoc/>
    public SpoolBacklog Backlog
    {
        get
        {
            lock (_gate)
            {
                return MakeBacklog(_messages, _bytes, _oldestMicros, _last);
            }
        }
    }

    /// <summary>
    /// Opens the spool in <paramref name="directory"/>, creating the directory and the file when missing, and takes
    /// its lock. Messages left by an earlier process are there to be sent.
    /// </summary>
    /// <exception cref="SpoolInUseException">Another process has it open.</exception>
    /// <exception cref="SpoolUnavailableException">It cannot be created or opened, or the file is not a spool.</exception>
    public static SqliteMessageSpool Open(string directory, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string full = Path.GetFullPath(directory);
        try
        {
            System.IO.Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SpoolUnavailableException($"spool {full} cannot be created: {e.Message.TrimEnd('.')}", e);
        }

        string path = Path.Combine(full, FileName);
        IDisposable writerLock;
        try
        {
            writerLock = SpoolFiles.Lock(path);
        }
        catch (JournalInUseException e)
        {
            throw new SpoolInUseException(full, e.ProcessId, e);
        }
        catch (JournalUnavailableException e)
        {
            throw new SpoolUnavailableException($"spool {full} cannot be opened: {e.Message}", e);
        }

        SqliteConnection? connection = null;
        try
        {
            connection = SpoolFiles.OpenDatabase(path, full, create: true);
            SpoolFiles.Prepare(connection, full, ApplicationId, SchemaVersion);
            return new SqliteMessageSpool(full, connection, writerLock, timeProvider ?? TimeProvider.System);
        }
        catch
        {
            connection?.Dispose();
            writerLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// What the spool in <paramref name="directory"/> holds, read without taking its lock (a sender may be running).
    /// </summary>
    /// <exception cref="SpoolUnavailableException">There is no spool there, or it cannot be read.</exception>
    public static SpoolBacklog ReadBacklog(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        string full = Path.GetFullPath(directory);
        string path = Path.Combine(full, FileName);
        if (!File.Exists(path))
        {
            throw new SpoolUnavailableException($"no spool in {full} (no {FileName}): nothing was ever spooled there");
        }

        using var connection = SpoolFiles.OpenDatabase(path, full, create: false);
        SpoolFiles.Check(connection, full, ApplicationId, SchemaVersion);
        var (messages, bytes, oldest, last) = Totals(connection);
        return MakeBacklog(messages, bytes, oldest, last);
    }

    /// <inheritdoc/>
    /// <exception cref="SpoolUnavailableException">The batch could not be committed (disk full, I/O error); none of it is stored.</exception>
    public long Append(IReadOnlyList<ReadOnlyMemory<byte>> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (messages.Count == 0)
            {
                return _last;
            }

            long now = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;
            long bytes = 0;
            try
            {
                using var transaction = _connection.BeginTransaction();
                using var insert = _connection.CreateCommand();
                insert.Transaction = transaction;
                insert.CommandText = "INSERT INTO spool (appended_us, crc, payload) VALUES ($at, $crc, $payload)";
                var crc = insert.Parameters.Add("$crc", SqliteType.Integer);
                var payload = insert.Parameters.Add("$payload", SqliteType.Blob);
                insert.Parameters.AddWithValue("$at", now);
                foreach (var message in messages)
                {
                    crc.Value = (long)Crc32C.Compute(message.Span);
                    payload.Value = message.ToArray();
                    insert.ExecuteNonQuery();
                    bytes += message.Length;
                }

                transaction.Commit(); // the commit point: WAL fsynced (synchronous = FULL)
            }
            catch (SqliteException e)
            {
                throw new SpoolUnavailableException($"spool {Directory}: messages not stored: {SqliteRuntime.Describe(e)}", e);
            }

            if (_messages == 0)
            {
                _oldestMicros = now;
            }

            _messages += messages.Count;
            _bytes += bytes;
            _last += messages.Count;
            return _last;
        }
    }

    /// <inheritdoc/>
    /// <exception cref="SpoolDamagedException">A message failed its CRC-32C check.</exception>
    public IReadOnlyList<SpooledMessage> Read(long after, int max)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var select = _connection.CreateCommand();
            select.CommandText = "SELECT seq, crc, payload FROM spool WHERE seq > $after ORDER BY seq LIMIT $max";
            select.Parameters.AddWithValue("$after", after);
            select.Parameters.AddWithValue("$max", max);
            using var reader = select.ExecuteReader();
            var found = new List<SpooledMessage>();
            while (reader.Read())
            {
                long sequence = reader.GetInt64(0);
                byte[] payload = reader.IsDBNull(2) ? [] : (byte[])reader.GetValue(2);
                if ((uint)reader.GetInt64(1) != Crc32C.Compute(payload))
                {
                    throw new SpoolDamagedException(Directory, sequence);
                }

                found.Add(new SpooledMessage(sequence, payload));
            }

            return found;
        }
    }

    /// <inheritdoc/>
    public void Acknowledge(long through)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var transaction = _connection.BeginTransaction();
            using var delete = _connection.CreateCommand();
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM spool WHERE seq <= $through";
            delete.Parameters.AddWithValue("$through", through);
            using var removed = _connection.CreateCommand();
            removed.Transaction = transaction;
            removed.CommandText = "SELECT count(*), coalesce(sum(length(payload)), 0) FROM spool WHERE seq <= $through";
            removed.Parameters.AddWithValue("$through", through);
            long count, bytes;
            using (var reader = removed.ExecuteReader())
            {
                reader.Read();
                (count, bytes) = (reader.GetInt64(0), reader.GetInt64(1));
            }

            if (count == 0)
            {
                return;
            }

            delete.ExecuteNonQuery();
            transaction.Commit();
            _messages -= count;
            _bytes -= bytes;
            using var oldest = _connection.CreateCommand();
            oldest.CommandText = "SELECT coalesce((SELECT appended_us FROM spool ORDER BY seq LIMIT 1), 0)";
            _oldestMicros = (long)oldest.ExecuteScalar()!;
        }
    }

    /// <summary>Closes the file and releases the lock.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _connection.Dispose();
            _lock.Dispose();
        }
    }

    private static (long Messages, long Bytes, long OldestMicros, long Last) Totals(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*), coalesce(sum(length(payload)), 0), " +
                              "coalesce((SELECT appended_us FROM spool ORDER BY seq LIMIT 1), 0), " +
                              "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'spool'), 0) FROM spool";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    private static SpoolBacklog MakeBacklog(long messages, long bytes, long oldestMicros, long last) =>
        new(messages, bytes, messages > 0 ? DateTimeOffset.UnixEpoch.AddTicks(oldestMicros * 10) : null, last);
}
