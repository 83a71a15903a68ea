using System.Net;
using System.Text;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Tests;

/// <summary>A fresh folder per test, deleted afterwards; <see cref="Path"/> is a journal path in it that does not exist yet.</summary>
internal sealed class TempJournal : IDisposable
{
    public TempJournal()
    {
        Folder = Directory.CreateTempSubdirectory("tcptalk-journal-tests-").FullName;
        Path = System.IO.Path.Combine(Folder, "tcptalk.db");
    }

    public string Folder { get; }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A helper process may still be exiting; the OS cleans temp folders eventually.
        }
    }
}

/// <summary>Builds <see cref="MessageBatch"/>es the way the connection handler does: one buffer, message ranges in it.</summary>
internal static class Batches
{
    public static readonly DateTimeOffset Time = new DateTimeOffset(2024, 5, 1, 12, 30, 15, TimeSpan.Zero).AddTicks(1234567);

    public static ConnectionInfo Connection(long id = 1, string client = "127.0.0.1", int clientPort = 5000,
        string local = "127.0.0.1", int localPort = 12345) =>
        new(id, new IPEndPoint(IPAddress.Parse(local), localPort), new IPEndPoint(IPAddress.Parse(client), clientPort));

    public static MessageBatch Of(params string[] messages) =>
        Of(Connection(), Time, MessageText.Utf8, messages.Select(m => Encoding.UTF8.GetBytes(m)).ToArray());

    public static MessageBatch Of(ConnectionInfo connection, DateTimeOffset receivedAt, Encoding encoding, params byte[][] messages)
    {
        // A terminator byte between messages, as in a real receive buffer: the batch must slice it away.
        var buffer = new List<byte>();
        var ranges = new (int Start, int Length)[messages.Length];
        for (int i = 0; i < messages.Length; i++)
        {
            ranges[i] = (buffer.Count, messages[i].Length);
            buffer.AddRange(messages[i]);
            buffer.Add(0);
        }

        return new MessageBatch(connection, receivedAt, encoding, buffer.ToArray(), ranges);
    }
}

/// <summary>Reads everything back with a fresh reader.</summary>
internal static class Read
{
    public static async Task<List<JournalRecord>> AllAsync(string path, JournalQuery? query = null)
    {
        using var reader = JournalReader.Open(path);
        var records = new List<JournalRecord>();
        await foreach (var record in reader.QueryAsync(query ?? JournalQuery.All))
        {
            records.Add(record);
        }

        return records;
    }
}

/// <summary>Plain SQL on a journal file, from outside the journal, as another program would.</summary>
internal static class Sql
{
    public static Microsoft.Data.Sqlite.SqliteConnection Open(string path) =>
        SqliteRuntime.Open(path, Microsoft.Data.Sqlite.SqliteOpenMode.ReadWriteCreate, busyTimeoutSeconds: 1);

    public static T Scalar<T>(Microsoft.Data.Sqlite.SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (T)command.ExecuteScalar()!;
    }

    public static T Scalar<T>(string path, string sql)
    {
        using var connection = Open(path);
        return Scalar<T>(connection, sql);
    }

    public static List<string> Texts(string path)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT text FROM messages ORDER BY id";
        using var reader = command.ExecuteReader();
        var texts = new List<string>();
        while (reader.Read())
        {
            texts.Add(reader.GetString(0));
        }

        return texts;
    }

    /// <summary>Writes a journal exactly as tcptalk before schema 2 did: version 1, one row per message.</summary>
    public static void WriteVersion1(string path, params string[] texts)
    {
        using var connection = Open(path);
        JournalSchema.ExecuteScript(connection, "PRAGMA journal_mode = WAL; " + JournalSchema.Version1 +
            $" PRAGMA application_id = {JournalSchema.ApplicationId}; PRAGMA user_version = 1;");
        long id = 1;
        foreach (string text in texts)
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO messages VALUES ($id, 1714564800000000, '127.0.0.1', 12345, '192.0.2.7', 40000, 1, 65001, $raw, $text)";
            insert.Parameters.AddWithValue("$id", id++);
            insert.Parameters.AddWithValue("$raw", System.Text.Encoding.UTF8.GetBytes(text));
            insert.Parameters.AddWithValue("$text", text);
            insert.ExecuteNonQuery();
        }
    }

    public static void Execute(string path, string sql)
    {
        using var connection = Open(path);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every 5 ms until it holds; fails the test after 10 s.</summary>
    public static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(5);
        }
    }
}
