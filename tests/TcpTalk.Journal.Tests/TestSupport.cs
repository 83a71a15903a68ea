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
