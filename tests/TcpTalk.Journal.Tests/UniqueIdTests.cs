using System.Text;
using TcpTalk.Messages;
using TcpTalk.TestSupport;

namespace TcpTalk.Journal.Tests;

/// <summary>Schema version 3: a balancer's PROXY protocol UNIQUE_ID, stored once per connection and read back with every record.</summary>
public class UniqueIdTests
{
    [Fact]
    public async Task AConnectionsUniqueIdIsStoredOnceAndComesBackWithEachOfItsRecords()
    {
        using var temp = new TempJournal();
        var proxied = new ConnectionInfo(7, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 12345), new System.Net.IPEndPoint(System.Net.IPAddress.Parse("127.0.0.5"), 40000))
        {
            UniqueId = "7F000005:9C40_abc"u8.ToArray(),
        };
        await using (var journal = SqliteMessageJournal.Open(temp.Path))
        {
            await journal.AppendAsync(TestBatches.Of(proxied, TestBatches.Time, Encoding.UTF8, "one"u8.ToArray(), "two"u8.ToArray()), CancellationToken.None);
            await journal.AppendAsync(TestBatches.Of(proxied, TestBatches.Time, Encoding.UTF8, "three"u8.ToArray()), CancellationToken.None);
            await journal.AppendAsync(TestBatches.Of("direct"), CancellationToken.None);
        }

        var records = await Read.AllAsync(temp.Path);
        Assert.Equal(["7F000005:9C40_abc", "7F000005:9C40_abc", "7F000005:9C40_abc", null],
            records.Select(r => r.UniqueId is { } id ? Encoding.ASCII.GetString(id) : null));
        Assert.Equal(1, Sql.Scalar<long>(temp.Path, "SELECT count(*) FROM connections WHERE unique_id IS NOT NULL"));
        Assert.Contains("\"unique_id\":\"7F000005:9C40_abc\"", records[0].ToMessageRecord() is var r ? MessageLineWriter.FormatLine(r, MessageOutputFormat.Json) : "", StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVersion2FileIsReadAsItIsThenUpgradedWithoutUniqueIdsForItsOldConnections()
    {
        using var temp = new TempJournal();
        IReadOnlyList<string> v2 = [JournalSchema.Version1, JournalSchema.Version2];
        await using (var old = SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, v2, hooks: null))
        {
            await old.AppendAsync(TestBatches.Of("before"), CancellationToken.None);
        }

        Assert.Equal(["before"], (await Read.AllAsync(temp.Path)).Select(r => r.Text)); // the reader does not upgrade
        Assert.Equal(2, (int)Sql.Scalar<long>(temp.Path, "PRAGMA user_version"));

        var proxied = new ConnectionInfo(2, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1), new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 2)) { UniqueId = [1, 2, 3] };
        await using (var upgraded = SqliteMessageJournal.Open(temp.Path))
        {
            Assert.Equal(3, (int)Sql.Scalar<long>(temp.Path, "PRAGMA user_version"));
            await upgraded.AppendAsync(TestBatches.Of(proxied, TestBatches.Time, Encoding.UTF8, "after"u8.ToArray()), CancellationToken.None);
        }

        var records = await Read.AllAsync(temp.Path);
        Assert.Equal(["before", "after"], records.Select(r => r.Text));
        Assert.Null(records[0].UniqueId);
        Assert.Equal([1, 2, 3], records[1].UniqueId);
    }
}
