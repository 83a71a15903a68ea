using System.Diagnostics;
using System.Globalization;
using TcpTalk.Journal;

// Compares journal designs on the same messages in the same run (bench/README.md, "Journal designs"): today's
// row-per-message SQLite (schema 1, own SQL), design A (SQLite, one row per read batch, connections table) and
// design B (an append-only segment log with a CRC-32C per record), each fed commit groups on one thread as the
// journal's writer would get them; plus the shipped journal through its public AppendAsync from concurrent
// appenders. Each round runs for --seconds; the table shows medians of --rounds. Figures only, no assertion.
if (args is ["--readers", ..])
{
    string readersFolder = Directory.CreateTempSubdirectory("tcptalk-journal-readers-").FullName;
    try
    {
        await ReaderBench.RunAsync(args.Length > 2 && args[1] == "--messages" ? long.Parse(args[2], CultureInfo.InvariantCulture) : 10_000_000, readersFolder);
    }
    finally
    {
        Directory.Delete(readersFolder, recursive: true);
    }

    return;
}

var settings = Settings.Parse(args);
var workloads = new[]
{
    new Workload("stream", connectionsPerGroup: 4, messagesPerBatch: settings.StreamBatch, settings.MessageBytes, newConnectionPerBatch: false),
    new Workload("session", connectionsPerGroup: 64, messagesPerBatch: 1, settings.MessageBytes, newConnectionPerBatch: true),
};
var designs = new (string Name, Func<string, IStoreDesign> Open)[]
{
    ("row per message (schema 1)", p => new RowPerMessageStore(p + ".db", settings.Full)),
    ("A: SQLite batch rows", p => new BatchRowStore(p + ".db", settings.Full)),
    ("B: segment log", p => new SegmentLogStore(p + ".seg", settings.Full)),
};
string folder = Directory.CreateTempSubdirectory("tcptalk-journal-bench-").FullName;
Console.WriteLine($"{settings.MessageBytes} B messages, stream {settings.StreamBatch} messages/read x 4 connections, session 1 message/read x 64 new connections, " +
                  $"{(settings.Full ? "Full (fsync per group)" : "Normal (no fsync)")}, {settings.Rounds} rounds x {settings.Seconds} s, load average {LoadAverage()}");
try
{
    int run = 0;
    foreach (var workload in workloads.Where(w => settings.Workload is null || w.Name == settings.Workload))
    {
        double baseline = 0;
        var rows = new List<(string Name, double Rate, double Cpu, double Bytes)>();
        foreach (var (name, open) in designs)
        {
            var rounds = new List<(double Rate, double Cpu, double Bytes)>();
            for (int r = 0; r < settings.Rounds + 1; r++)
            {
                string path = Path.Combine(folder, $"{run++}");
                var result = Drive(open(path), workload, r == 0 ? 0.3 : settings.Seconds, path);
                if (r > 0)
                {
                    rounds.Add(result); // round 0 is the warm-up (JIT, page cache)
                }

                DeleteAll(path);
            }

            rows.Add((name, Median(rounds, x => x.Rate), Median(rounds, x => x.Cpu), Median(rounds, x => x.Bytes)));
        }

        var shipped = await ShippedAsync(folder, workload, settings);
        rows.Add(("shipped journal, AppendAsync", shipped.Rate, shipped.Cpu, shipped.Bytes));
        baseline = rows[0].Rate;
        Console.WriteLine();
        Console.WriteLine($"{workload.Name,-8} {"design",-30} {"msgs/s",12} {"x row/msg",10} {"CPU us/msg",11} {"disk B/msg",11}");
        foreach (var (name, rate, cpu, bytes) in rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{workload.Name,-8} {name,-30} {rate,12:N0} {rate / baseline,9:N2}x {cpu,11:N3} {bytes,11:N1}"));
        }
    }

    Console.WriteLine();
    Console.WriteLine($"load average after: {LoadAverage()} (the 2 cores are shared with other work: figures are for comparing designs within this run)");
}
finally
{
    Directory.Delete(folder, recursive: true);
}

static (double Rate, double Cpu, double Bytes) Drive(IStoreDesign store, Workload workload, double seconds, string path)
{
    long messages = 0;
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var clock = Stopwatch.StartNew();
    using (store)
    {
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            store.Commit(workload.NextGroup());
            messages += workload.MessagesPerGroup;
        }
    }

    double elapsed = clock.Elapsed.TotalSeconds;
    double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
    return (messages / elapsed, cpuSeconds * 1e6 / messages, DiskBytes(path) / (double)messages);
}

static async Task<(double Rate, double Cpu, double Bytes)> ShippedAsync(string folder, Workload workload, Settings settings)
{
    var rounds = new List<(double, double, double)>();
    for (int r = 0; r < settings.Rounds + 1; r++)
    {
        string path = Path.Combine(folder, $"shipped-{workload.Name}-{r}");
        long messages = 0;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        double seconds = r == 0 ? 0.3 : settings.Seconds;
        await using (var journal = SqliteMessageJournal.Open(path + ".db", new JournalOptions { Durability = settings.Full ? JournalDurability.Full : JournalDurability.Normal }))
        {
            // Like connections: each appender has one batch in flight at a time.
            await Task.WhenAll(Enumerable.Range(0, workload.ConnectionsPerGroup).Select(slot => Task.Run(async () =>
            {
                while (clock.Elapsed.TotalSeconds < seconds)
                {
                    var batch = workload.NextBatch(slot);
                    await journal.AppendAsync(batch, CancellationToken.None);
                    Interlocked.Add(ref messages, batch.Count);
                }
            })));
        }

        double elapsed = clock.Elapsed.TotalSeconds;
        if (r > 0)
        {
            rounds.Add((messages / elapsed, (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds * 1e6 / messages, DiskBytes(path) / (double)messages));
        }

        DeleteAll(path);
    }

    return (Median(rounds, x => x.Item1), Median(rounds, x => x.Item2), Median(rounds, x => x.Item3));
}

static long DiskBytes(string path)
{
    string? folder = Path.GetDirectoryName(path);
    string prefix = Path.GetFileName(path);
    long total = 0;
    foreach (var entry in new DirectoryInfo(folder!).EnumerateFileSystemInfos(prefix + ".*"))
    {
        total += entry is DirectoryInfo d ? d.EnumerateFiles().Sum(f => f.Length) : ((FileInfo)entry).Length;
    }

    return total;
}

static void DeleteAll(string path)
{
    foreach (var entry in new DirectoryInfo(Path.GetDirectoryName(path)!).EnumerateFileSystemInfos(Path.GetFileName(path) + ".*"))
    {
        if (entry is DirectoryInfo d)
        {
            d.Delete(recursive: true);
        }
        else
        {
            entry.Delete();
        }
    }
}

static double Median<T>(List<T> values, Func<T, double> select)
{
    var sorted = values.Select(select).Order().ToArray();
    return sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
}

static string LoadAverage() =>
    File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

internal sealed record Settings(int MessageBytes, int StreamBatch, int Rounds, double Seconds, bool Full, string? Workload = null)
{
    public static Settings Parse(string[] args)
    {
        var s = new Settings(MessageBytes: 32, StreamBatch: 1000, Rounds: 3, Seconds: 1.5, Full: false);
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : "";
            s = args[i] switch
            {
                "--message-bytes" => s with { MessageBytes = int.Parse(value, CultureInfo.InvariantCulture) },
                "--stream-batch" => s with { StreamBatch = int.Parse(value, CultureInfo.InvariantCulture) },
                "--rounds" => s with { Rounds = int.Parse(value, CultureInfo.InvariantCulture) },
                "--seconds" => s with { Seconds = double.Parse(value, CultureInfo.InvariantCulture) },
                "--full" => s with { Full = true },
                "--workload" => s with { Workload = value },
                _ => throw new ArgumentException($"unknown option {args[i]} (--message-bytes N --stream-batch N --rounds N --seconds S --full --workload stream|session)"),
            };
            if (args[i] != "--full")
            {
                i++;
            }
        }

        return s;
    }
}
