using System.Diagnostics;
using System.Globalization;
using System.Net;
using TcpTalk.Journal;
using TcpTalk.Messages;
using TcpTalk.Protocol;

/// <summary>
/// The readers on a large journal (bench/journal.sh --readers): builds one of --messages 32-byte messages through
/// the public AppendAsync (stream batches of 1,000, receive times spread over a day), then times what
/// <c>tcptalk messages</c> does: <c>--since</c> to its first row, a <c>--contains</c> scan that matches nothing
/// (every message read and searched), and <c>--follow</c> from commit to record. In-process: the CLI adds its
/// start-up (about 30 ms NativeAOT) to the first two.
/// </summary>
internal static class ReaderBench
{
    public static async Task RunAsync(long total, string folder)
    {
        string path = Path.Combine(folder, "readers.db");
        var start = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        const int perBatch = 1000;
        long batches = total / perBatch;
        var build = Stopwatch.StartNew();
        await using (var journal = SqliteMessageJournal.Open(path))
        {
            var buffer = new byte[33 * perBatch];
            var ranges = new (int, int)[perBatch];
            var random = new Random(3);
            for (int m = 0; m < perBatch; m++)
            {
                for (int i = 0; i < 32; i++)
                {
                    buffer[m * 33 + i] = (byte)('a' + random.Next(26));
                }

                ranges[m] = (m * 33, 32);
            }

            var connections = Enumerable.Range(1, 4).Select(c => new ConnectionInfo(c, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Loopback, 40000 + c))).ToArray();
            var pending = new List<Task>();
            for (long b = 0; b < batches; b++)
            {
                var time = start.AddTicks((long)(TimeSpan.TicksPerDay * (b / (double)batches)));
                pending.Add(journal.AppendAsync(new MessageBatch(connections[b % 4], time, MessageText.Utf8, buffer, ranges), CancellationToken.None).AsTask());
                if (pending.Count == 4)
                {
                    await Task.WhenAll(pending);
                    pending.Clear();
                }
            }

            await Task.WhenAll(pending);
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"built {batches * perBatch:N0} messages in {build.Elapsed.TotalSeconds:N1} s ({batches * perBatch / build.Elapsed.TotalSeconds:N0} msgs/s), file {new FileInfo(path).Length / 1048576.0:N0} MiB"));

        using var reader = JournalReader.Open(path);
        foreach (double fraction in new[] { 0.1, 0.5, 0.99 })
        {
            var times = new List<double>();
            for (int round = 0; round < 3; round++)
            {
                var clock = Stopwatch.StartNew();
                await foreach (var record in reader.QueryAsync(new JournalQuery { Since = start.AddHours(24 * fraction) }))
                {
                    break;
                }

                times.Add(clock.Elapsed.TotalMilliseconds);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--since at {fraction:P0} of the day: first row in {Median(times):N1} ms (median of 3; goal < 100 ms)"));
        }

        {
            var clock = Stopwatch.StartNew();
            long scanned = reader.GetLastId();
            int found = 0;
            await foreach (var record in reader.QueryAsync(new JournalQuery { Contains = "no-such-text" }))
            {
                found++;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--contains (no match, whole journal): {scanned / clock.Elapsed.TotalSeconds:N0} msgs/s ({clock.Elapsed.TotalSeconds:N1} s, {found} found; goal >= 1,000,000)"));
        }

        await FollowAsync(path);
    }

    private static async Task FollowAsync(string path)
    {
        await using var journal = SqliteMessageJournal.Open(path);
        using var reader = JournalReader.Open(path);
        using var stop = new CancellationTokenSource();
        long after = reader.GetLastId();
        var committed = new System.Collections.Concurrent.ConcurrentDictionary<long, long>();
        var latencies = new List<double>();
        var follow = Task.Run(async () =>
        {
            try
            {
                await foreach (var record in reader.FollowAsync(new JournalQuery { AfterId = after, Limit = 1, Newest = true }, stop.Token))
                {
                    if (committed.TryGetValue(record.Id, out long at))
                    {
                        latencies.Add(Stopwatch.GetElapsedTime(at).TotalMilliseconds);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        var connection = new ConnectionInfo(9, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Loopback, 40009));
        for (int i = 0; i < 20; i++)
        {
            await Task.Delay(Random.Shared.Next(20, 60));
            var batch = MessageBatch.FromTexts(connection, DateTimeOffset.UtcNow, MessageText.Utf8, $"follow {i}");
            long id = await journal.AppendAsync(batch, CancellationToken.None);
            committed[id] = Stopwatch.GetTimestamp();
        }

        await Task.Delay(300);
        await stop.CancelAsync();
        await follow;
        latencies.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"--follow: commit to record p50 {latencies[latencies.Count / 2]:N1} ms, max {latencies[^1]:N1} ms over {latencies.Count} messages (poll every 20 ms; goal < 50 ms)"));
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
