using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Journal.Tests;

/// <summary>MaxAge and MaxBytes: the oldest data goes whole, the newest row always stays, ids keep growing.</summary>
public class RetentionTests
{
    [Fact]
    public async Task RowsOlderThanMaxAgeAreDroppedWholeAndIdsKeepGrowing()
    {
        using var temp = new TempJournal();
        var old = DateTimeOffset.UtcNow.AddHours(-2);
        await using (var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions { MaxAge = TimeSpan.FromHours(1) }))
        {
            await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(id: 1), old, MessageText.Utf8, "old1"u8.ToArray(), "old2"u8.ToArray()), CancellationToken.None);
            await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(id: 2), old.AddMinutes(1), MessageText.Utf8, "old3"u8.ToArray()), CancellationToken.None);
            await Task.Delay(1100); // retention runs at most once a second
            Assert.Equal(4, await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(id: 3), DateTimeOffset.UtcNow, MessageText.Utf8, "new"u8.ToArray()), CancellationToken.None));
        }

        var left = await Read.AllAsync(temp.Path);
        Assert.Equal(["new"], left.Select(r => r.Text));
        Assert.Equal(4, left[0].Id);
        Assert.Equal(1, Sql.Scalar<long>(temp.Path, "SELECT count(*) FROM connections")); // the dropped rows' connections went too

        await using (var again = SqliteMessageJournal.Open(temp.Path))
        {
            Assert.Equal(5, await again.AppendAsync(TestBatches.Of("later"), CancellationToken.None));
        }
    }

    [Fact]
    public async Task EverythingOldIsDroppedButTheNewestRowWhichKeepsTheLastId()
    {
        using var temp = new TempJournal();
        var old = DateTimeOffset.UtcNow.AddDays(-3);
        await using (var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions { MaxAge = TimeSpan.FromHours(1) }))
        {
            await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(), old, MessageText.Utf8, "a"u8.ToArray(), "b"u8.ToArray()), CancellationToken.None);
            await Task.Delay(1100);
            await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(), old.AddSeconds(1), MessageText.Utf8, "c"u8.ToArray()), CancellationToken.None);
        }

        Assert.Equal([3L], (await Read.AllAsync(temp.Path)).Select(r => r.Id));
    }

    [Fact]
    public async Task DataPastMaxBytesIsDroppedOldestFirstLeavingTheNewestSuffix()
    {
        using var temp = new TempJournal();
        const long maxBytes = 1 << 20;
        long last = 0;
        await using (var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions { MaxBytes = maxBytes }))
        {
            for (int b = 0; b < 30; b++)
            {
                var messages = Enumerable.Range(0, 100).Select(m => Encoding.UTF8.GetBytes($"{b}/{m}/" + new string('x', 1000))).ToArray();
                last = await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(id: b), DateTimeOffset.UtcNow, MessageText.Utf8, messages), CancellationToken.None) + 99;
            }

            await Task.Delay(1100);
            last = await journal.AppendAsync(TestBatches.Of("last"), CancellationToken.None);
        }

        var left = await Read.AllAsync(temp.Path);
        Assert.InRange(left.Count, 100, 1000); // about 0.9 MiB of 1 KiB messages
        Assert.Equal(Enumerable.Range((int)(last - left.Count + 1), left.Count).Select(n => (long)n), left.Select(r => r.Id));
        long used = (Sql.Scalar<long>(temp.Path, "PRAGMA page_count") - Sql.Scalar<long>(temp.Path, "PRAGMA freelist_count")) * Sql.Scalar<long>(temp.Path, "PRAGMA page_size");
        Assert.InRange(used, 0, maxBytes);
    }

    [Fact]
    public async Task Version1RowsGoFirstUnderMaxBytes()
    {
        using var temp = new TempJournal();
        Sql.WriteVersion1(temp.Path, [.. Enumerable.Range(0, 3000).Select(i => $"{i}:" + new string('v', 600))]);
        await using (var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions { MaxBytes = 1 << 20 }))
        {
            Assert.Equal(3001, await journal.AppendAsync(TestBatches.Of("new"), CancellationToken.None));
        }

        var left = await Read.AllAsync(temp.Path);
        Assert.Equal("new", left[^1].Text);
        Assert.True(left.Count < 3001, $"{left.Count} messages left");
        Assert.Equal(Enumerable.Range(3002 - left.Count, left.Count).Select(n => (long)n), left.Select(r => r.Id));
    }

    [Theory]
    [InlineData(1024L, null)]
    [InlineData(null, 0.5)]
    public void LimitsOutOfRangeAreRefusedByName(long? maxBytes, double? maxAgeSeconds)
    {
        var options = new JournalOptions { MaxBytes = maxBytes, MaxAge = maxAgeSeconds is { } s ? TimeSpan.FromSeconds(s) : null };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.StartsWith(maxBytes is null ? "MaxAge is " : "MaxBytes is ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultKeepsEverything()
    {
        var options = new JournalOptions();
        Assert.Null(options.MaxBytes);
        Assert.Null(options.MaxAge);
    }
}
