using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>A journal file as the proofs look at it: its rows as users list them, and SQLite's own verdict on it.</summary>
public static class JournalFile
{
    /// <summary>One stored message: its journal id and text.</summary>
    public sealed record Row(long Id, string Text);

    /// <summary>Every stored message, listed with <c>tcptalk messages --json</c> as a user would.</summary>
    public static async Task<IReadOnlyList<Row>> ReadAsync(string path)
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["messages", "--journal", path, "--json"], timeout: TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"tcptalk messages exited with {code}: {string.Join(" | ", stderr)}");
        return [.. stdout.Select(line =>
        {
            using var json = JsonDocument.Parse(line);
            return new Row(json.RootElement.GetProperty("id").GetInt64(), json.RootElement.GetProperty("text").GetString()!);
        })];
    }

    /// <summary>
    /// <c>PRAGMA integrity_check</c>: "ok" when every page, record and index of the file (with its WAL) is sound,
    /// otherwise SQLite's list of problems. Opens the file read-only.
    /// </summary>
    public static string IntegrityCheck(string path)
    {
        var builder = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        using var connection = new SqliteConnection(builder.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.Add(reader.GetString(0));
        }

        return string.Join("; ", lines);
    }

    /// <summary>
    /// Copies a journal with its WAL and shared-memory files to <paramref name="to"/>. Only while its server is idle
    /// (no commit, so no checkpoint, in progress): then the copy is the journal as last committed.
    /// </summary>
    public static void CopyIdle(string from, string to)
    {
        foreach (string suffix in new[] { "", "-wal", "-shm" })
        {
            if (File.Exists(from + suffix))
            {
                File.Copy(from + suffix, to + suffix, overwrite: true);
            }
        }
    }
}
