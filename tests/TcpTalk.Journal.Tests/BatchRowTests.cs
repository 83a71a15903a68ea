using System.Text;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Tests;

/// <summary>Schema 2's batch rows: the --since seek, checksums, and damaged rows reported and skipped.</summary>
public class BatchRowTests
{
    private static readonly DateTimeOffset T0 = TestBatches.Time;

    [Fact]
    public async Task SinceSeekFindsExactlyWhatAFullScanFinds()
    {
        using var temp = new TempJournal();
        var random = new Random(11);
        await using (var journal = SqliteMessageJournal.Open(temp.Path))
        {
            for (int i = 0; i < 300; i++)
            {
                // Receive times mostly rising, a few slightly out of order as concurrent reads make them.
                var time = T0.AddMilliseconds(i * 100 + random.Next(-150, 150));
                var messages = Enumerable.Range(0, 1 + random.Next(3)).Select(m => Encoding.UTF8.GetBytes($"{i}/{m}")).ToArray();
                await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(id: 1 + i % 7), time, MessageText.Utf8, messages), CancellationToken.None);
            }
        }

        var all = await Read.AllAsync(temp.Path);
        foreach (int seconds in new[] { -5, 0, 1, 7, 15, 29, 31, 60 })
        {
            var since = T0.AddSeconds(seconds).AddMilliseconds(random.Next(100));
            var expected = all.Where(r => r.ReceivedAt >= since).Select(r => r.Id);
            Assert.Equal(expected, (await Read.AllAsync(temp.Path, new JournalQuery { Since = since })).Select(r => r.Id));
            Assert.Equal(expected.TakeLast(5), (await Read.AllAsync(temp.Path, new JournalQuery { Since = since, Limit = 5, Newest = true })).Select(r => r.Id));
        }
    }

    [Fact]
    public async Task RowFailingItsChecksumIsReportedWithItsIdsAndSkipped()
    {
        using var temp = new TempJournal();
        await WriteThreeAsync(temp.Path);
        // One flipped bit in the middle row's bytes, as a bad sector or a stray write would leave it.
        Sql.Execute(temp.Path, "UPDATE batches SET raw = CAST(replace(CAST(raw AS TEXT), 'b1', 'c1') AS BLOB) WHERE first_id = 3");

        var reports = new List<string>();
        using var reader = JournalReader.Open(temp.Path, new JournalReaderOptions { Damaged = reports.Add });
        var texts = new List<string>();
        await foreach (var record in reader.QueryAsync(JournalQuery.All))
        {
            texts.Add(record.Text);
        }

        Assert.Equal(["a1", "a2", "c1", "c2"], texts);
        Assert.Equal([$"journal {temp.Path}: the row of message ids 3-4 is damaged (it fails its CRC-32C checksum); its messages are skipped"], reports);
        Assert.Equal(1, reader.DamagedRows);
    }

    [Fact]
    public async Task RowWhoseLengthsDoNotAddUpIsReportedEvenWithAMatchingChecksum()
    {
        using var temp = new TempJournal();
        await WriteThreeAsync(temp.Path);
        long connection = Sql.Scalar<long>(temp.Path, "SELECT connection FROM batches WHERE first_id = 3");
        long received = Sql.Scalar<long>(temp.Path, "SELECT received_us FROM batches WHERE first_id = 3");
        byte[] lengths = [2, 3]; // 5 bytes claimed, 4 stored
        uint crc = JournalBatchFormat.Checksum(3, 2, received, connection, lengths, "b1b2"u8);
        Sql.Execute(temp.Path, $"UPDATE batches SET lengths = x'0203', crc = {crc} WHERE first_id = 3");

        var reports = new List<string>();
        using var reader = JournalReader.Open(temp.Path, new JournalReaderOptions { Damaged = reports.Add });
        var ids = new List<long>();
        await foreach (var record in reader.QueryAsync(JournalQuery.All))
        {
            ids.Add(record.Id);
        }

        Assert.Equal([1L, 2, 5, 6], ids);
        Assert.Equal([$"journal {temp.Path}: the row of message ids 3-4 is damaged (message 2 ends past the row's 4 bytes); its messages are skipped"], reports);
    }

    [Fact]
    public async Task EveryFieldRoundTripsThroughABatchRow()
    {
        using var temp = new TempJournal();
        var connection = TestBatches.Connection(id: 42, client: "2001:db8::7", clientPort: 50001, local: "::1", localPort: 4242);
        byte[][] messages = [[], [0xFF, 0x00, 0x41], Encoding.UTF8.GetBytes(new string('x', 300))];
        await using (var journal = SqliteMessageJournal.Open(temp.Path))
        {
            Assert.Equal(1, await journal.AppendAsync(TestBatches.Of(connection, T0, MessageText.Utf8, messages), CancellationToken.None));
        }

        var records = await Read.AllAsync(temp.Path);
        Assert.Equal(3, records.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(i + 1, records[i].Id);
            Assert.Equal(messages[i], records[i].Raw);
            Assert.Equal(T0.AddTicks(-(T0.UtcTicks % 10)), records[i].ReceivedAt); // microsecond precision
            Assert.Equal("[2001:db8::7]:50001", records[i].Client);
            Assert.Equal("[::1]:4242", records[i].Local);
            Assert.Equal(42, records[i].ConnectionId);
            Assert.Equal(65001, records[i].CodePage);
        }

        Assert.Equal("\uFFFD\0A", records[1].Text);
        Assert.Equal(1, Sql.Scalar<long>(temp.Path, "SELECT count(*) FROM connections")); // endpoints once per connection
    }

    private static async Task WriteThreeAsync(string path)
    {
        await using var journal = SqliteMessageJournal.Open(path);
        foreach (string prefix in new[] { "a", "b", "c" })
        {
            await journal.AppendAsync(TestBatches.Of(prefix + "1", prefix + "2"), CancellationToken.None);
        }
    }
}
