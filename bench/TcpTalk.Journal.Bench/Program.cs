using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using TcpTalk.Journal;
using TcpTalk.Protocol;
using TcpTalk.Messages;

// Measures, on this machine, (1) raw SQLite: the journal's rows inserted by one thread with its prepared INSERT,
// one transaction per --rows-per-commit rows; (2) the journal: the same rows through AppendAsync from --appenders
// concurrent tasks. Prints both rates and journal/raw. Figures only: nothing here passes or fails.
var settings = Settings.Parse(args);
string folder = Directory.CreateTempSubdirectory("tcptalk-journal-bench-").FullName;
try
{
    Console.WriteLine($"rows {settings.Rows:N0}, message {settings.MessageBytes} B, durability {settings.Durability}, " +
                      $"raw: {settings.RowsPerCommit} rows/commit, journal: {settings.Appenders} appenders x {settings.MessagesPerBatch} message(s)/batch");
    byte[] payload = Encoding.UTF8.GetBytes(new string('m', settings.MessageBytes));

    // Warm-up (JIT, SQLite's page cache) on a file of its own, then the measured runs.
    Raw(Path.Combine(folder, "warm-raw.db"), settings with { Rows = settings.Rows / 10 }, payload);
    await JournalAsync(Path.Combine(folder, "warm-journal.db"), settings with { Rows = settings.Rows / 10 }, payload);

    var raw = Raw(Path.Combine(folder, "raw.db"), settings, payload);
    var (journal, commits) = await JournalAsync(Path.Combine(folder, "journal.db"), settings, payload);
    double rawRate = settings.Rows / raw.TotalSeconds;
    double journalRate = settings.Rows / journal.TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"raw SQLite : {rawRate,12:N0} rows/s ({raw.TotalMilliseconds:N0} ms)"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"journal    : {journalRate,12:N0} rows/s ({journal.TotalMilliseconds:N0} ms, {commits:N0} commits, {settings.Rows / (double)Math.Max(commits, 1):N1} rows/commit)"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio      : {journalRate / rawRate,12:N2} x raw (target >= 0.80)"));
}
finally
{
    Directory.Delete(folder, recursive: true);
}

static TimeSpan Raw(string path, Settings settings, byte[] payload)
{
    // The journal's own file set-up, connection pragmas and insert code, on this thread, without queue or tasks.
    var options = new JournalOptions { Durability = settings.Durability };
    SqliteMessageJournal.Open(path, options).DisposeAsync().AsTask().GetAwaiter().GetResult();
    using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
    connection.Open();
    SqliteMessageJournal.ConfigureWriter(connection, options);
    using var inserter = new MessageInserter(connection);
    var batch = Batch(1, payload, messages: 1);
    var clock = Stopwatch.StartNew();
    for (long next = 1; next <= settings.Rows;)
    {
        inserter.Begin();
        for (int i = 0; i < settings.RowsPerCommit && next <= settings.Rows; i++)
        {
            next = inserter.Insert(batch, next);
        }

        inserter.Commit();
    }

    return clock.Elapsed;
}

static async Task<(TimeSpan Elapsed, long Commits)> JournalAsync(string path, Settings settings, byte[] payload)
{
    await using var journal = SqliteMessageJournal.Open(path, new JournalOptions { Durability = settings.Durability });
    long batches = settings.Rows / settings.MessagesPerBatch;
    long taken = 0;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, settings.Appenders).Select(a => Task.Run(async () =>
    {
        // Like a connection: its own buffer, one batch in flight at a time.
        var batch = Batch(a + 1, payload, settings.MessagesPerBatch);
        while (Interlocked.Increment(ref taken) <= batches)
        {
            await journal.AppendAsync(batch, CancellationToken.None);
        }
    })));
    var elapsed = clock.Elapsed;
    return (elapsed, journal.Commits);
}

static MessageBatch Batch(int connectionId, byte[] payload, int messages)
{
    var connection = new ConnectionInfo(connectionId, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Loopback, 40000 + connectionId));
    var buffer = new byte[payload.Length * messages];
    var ranges = new (int Start, int Length)[messages];
    for (int m = 0; m < messages; m++)
    {
        payload.CopyTo(buffer, m * payload.Length);
        ranges[m] = (m * payload.Length, payload.Length);
    }

    return new MessageBatch(connection, DateTimeOffset.UtcNow, MessageText.Utf8, buffer, ranges);
}

internal sealed record Settings(long Rows, int MessageBytes, int RowsPerCommit, int Appenders, int MessagesPerBatch, JournalDurability Durability)
{
    public static Settings Parse(string[] args)
    {
        var s = new Settings(Rows: 200_000, MessageBytes: 64, RowsPerCommit: 1000, Appenders: 64, MessagesPerBatch: 1, JournalDurability.Normal);
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : "";
            s = args[i] switch
            {
                "--rows" => s with { Rows = long.Parse(value, CultureInfo.InvariantCulture) },
                "--message-bytes" => s with { MessageBytes = int.Parse(value, CultureInfo.InvariantCulture) },
                "--rows-per-commit" => s with { RowsPerCommit = int.Parse(value, CultureInfo.InvariantCulture) },
                "--appenders" => s with { Appenders = int.Parse(value, CultureInfo.InvariantCulture) },
                "--messages-per-batch" => s with { MessagesPerBatch = int.Parse(value, CultureInfo.InvariantCulture) },
                "--full" => s with { Durability = JournalDurability.Full },
                _ => throw new ArgumentException($"unknown option {args[i]} (--rows N --message-bytes N --rows-per-commit N --appenders N --messages-per-batch N --full)"),
            };
            if (args[i] != "--full")
            {
                i++;
            }
        }

        return s;
    }
}
