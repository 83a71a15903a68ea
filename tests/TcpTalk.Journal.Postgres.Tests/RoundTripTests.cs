using System.Net;
using System.Text;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Postgres.Tests;

[Collection(SharedClusterCollection.Name)]
public sealed class RoundTripTests(SharedCluster shared)
{
    private PostgresCluster Cluster => shared.Cluster;

    [PostgresFact]
    public async Task AppendedMessagesReadBackWithEveryColumn()
    {
        string uri = Cluster.Uri(Schemas.Fresh());
        var invalidUtf8 = new byte[] { 0x66, 0xFF, 0x00, 0x0A };
        var connection = TestBatches.Connection(id: 7, client: "192.0.2.10", clientPort: 40000, local: "127.0.0.1", localPort: 12345);
        long first;
        await using (var journal = await PostgresMessageJournal.OpenAsync(uri, new PostgresJournalOptions { NodeName = "node-a" }))
        {
            first = await journal.AppendAsync(TestBatches.Of(connection, TestBatches.MicrosecondTime, MessageText.Utf8, Encoding.UTF8.GetBytes("héllo"), invalidUtf8, []), default);
            Assert.Equal(4, await journal.AppendAsync(TestBatches.Of("next"), default));
        }

        Assert.Equal(1, first);
        await using var reader = await PostgresJournalReader.OpenAsync(uri);
        var records = await reader.QueryAsync(JournalQuery.All).ToListAsync();
        Assert.Equal([1L, 2, 3, 4], records.Select(r => r.Id));
        var r = records[0];
        Assert.Equal("node-a", r.NodeName);
        Assert.Equal(TestBatches.MicrosecondTime, r.ReceivedAt);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), r.ClientAddress);
        Assert.Equal(40000, r.ClientPort);
        Assert.Equal("127.0.0.1:12345", r.Local);
        Assert.Equal(7, r.ConnectionId);
        Assert.Equal(65001, r.CodePage);
        Assert.Null(r.UniqueId);
        Assert.Equal("héllo", r.Text);
        Assert.Equal(invalidUtf8, records[1].Raw);
        Assert.Empty(records[2].Raw);
        Assert.Equal("2024-05-01T12:30:15.123Z 192.0.2.10:40000 héllo", r.FormatLine());
        Assert.Equal(4, await reader.GetLastIdAsync());
    }

    [PostgresFact]
    public async Task AConnectionsProxyUniqueIdIsStoredWithEachOfItsMessages()
    {
        string uri = Cluster.Uri(Schemas.Fresh());
        var proxied = new ConnectionInfo(3, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Parse("127.0.0.5"), 40000))
        {
            UniqueId = "7F000005:9C40_abc"u8.ToArray(),
        };
        await using (var journal = await PostgresMessageJournal.OpenAsync(uri))
        {
            await journal.AppendAsync(TestBatches.Of(proxied, TestBatches.MicrosecondTime, MessageText.Utf8, "one"u8.ToArray(), "two"u8.ToArray()), default);
            await journal.AppendAsync(TestBatches.Of("direct"), default);
        }

        await using var reader = await PostgresJournalReader.OpenAsync(uri);
        var records = await reader.QueryAsync(JournalQuery.All).ToListAsync();
        Assert.Equal(["7F000005:9C40_abc", "7F000005:9C40_abc", null], records.Select(r => r.UniqueId is { } id ? Encoding.ASCII.GetString(id) : null));
    }

    [PostgresFact]
    public async Task EveryFilterSelectsExactlyItsRecords()
    {
        string uri = Cluster.Uri(Schemas.Fresh());
        var t0 = TestBatches.MicrosecondTime;
        await using (var a = await PostgresMessageJournal.OpenAsync(uri, new PostgresJournalOptions { NodeName = "a" }))
        await using (var b = await PostgresMessageJournal.OpenAsync(uri, new PostgresJournalOptions { NodeName = "b" }))
        {
            await a.AppendAsync(TestBatches.Of(TestBatches.Connection(client: "10.1.0.1"), t0, MessageText.Utf8, "alpha one"u8.ToArray()), default);              // 1
            await b.AppendAsync(TestBatches.Of(TestBatches.Connection(client: "10.1.0.2"), t0.AddSeconds(1), MessageText.Utf8, "beta two"u8.ToArray()), default);  // 2
            await a.AppendAsync(TestBatches.Of(TestBatches.Connection(client: "10.2.0.1"), t0.AddSeconds(2), MessageText.Utf8, "alpha three"u8.ToArray()), default); // 3
            await b.AppendAsync(TestBatches.Of(TestBatches.Connection(client: "10.1.0.1"), t0.AddSeconds(3), MessageText.Utf8, "gamma four"u8.ToArray()), default);  // 4
        }

        await using var reader = await PostgresJournalReader.OpenAsync(uri);
        async Task<long[]> Ids(JournalQuery q) => (await reader.QueryAsync(q).ToListAsync()).Select(r => r.Id).ToArray();

        Assert.Equal(new long[] { 1, 2, 3, 4 }, await Ids(JournalQuery.All));
        Assert.Equal(new long[] { 2, 3, 4 }, await Ids(new() { Since = t0.AddSeconds(1) }));
        Assert.Equal(new long[] { 1, 2 }, await Ids(new() { Until = t0.AddSeconds(2) }));
        Assert.Equal(new long[] { 1, 4 }, await Ids(new() { From = IPNetwork.Parse("10.1.0.1/32") }));
        Assert.Equal(new long[] { 1, 2, 4 }, await Ids(new() { From = IPNetwork.Parse("10.1.0.0/16") }));
        Assert.Equal(new long[] { 1, 2, 4 }, await Ids(new() { From = IPNetwork.Parse("::ffff:10.1.0.0/112") }));
        Assert.Equal(new long[] { 1, 3 }, await Ids(new() { Contains = "alpha" }));
        Assert.Equal(new long[] { 2, 4 }, await Ids(new() { Node = "b" }));
        Assert.Equal(new long[] { 3, 4 }, await Ids(new() { AfterId = 2 }));
        Assert.Equal(new long[] { 1, 2 }, await Ids(new() { Limit = 2 }));
        Assert.Equal(new long[] { 3, 4 }, await Ids(new() { Limit = 2, Newest = true }));
        Assert.Equal(new long[] { 4 }, await Ids(new() { Contains = "o", Since = t0.AddSeconds(3), From = IPNetwork.Parse("10.0.0.0/8"), Limit = 5 }));
        Assert.Throws<ArgumentException>(() => reader.QueryAsync(new() { Limit = 0 }));
    }

    [PostgresFact]
    public async Task PagedReadsReturnEveryRecordOnce()
    {
        string uri = Cluster.Uri(Schemas.Fresh());
        int total = PostgresJournalReader.PageSize * 2 + 5;
        await using (var journal = await PostgresMessageJournal.OpenAsync(uri))
        {
            await journal.AppendAsync(TestBatches.Of(Enumerable.Range(0, total).Select(i => $"m{i}").ToArray()), default);
        }

        await using var reader = await PostgresJournalReader.OpenAsync(uri);
        var all = await reader.QueryAsync(JournalQuery.All).ToListAsync();
        Assert.Equal(Enumerable.Range(1, total).Select(i => (long)i), all.Select(r => r.Id));
        var newest = await reader.QueryAsync(new() { Newest = true, Limit = PostgresJournalReader.PageSize + 3, Contains = "m" }).ToListAsync();
        Assert.Equal(Enumerable.Range(total - PostgresJournalReader.PageSize - 2, PostgresJournalReader.PageSize + 3).Select(i => (long)i), newest.Select(r => r.Id));
    }

    [PostgresFact]
    public async Task JournalReportsTheSynchronousStandby()
    {
        await using var journal = await PostgresMessageJournal.OpenAsync(Cluster.Uri(Schemas.Fresh()));
        Assert.True(journal.HasSynchronousStandby);

        await using var local = await PostgresMessageJournal.OpenAsync(Cluster.Uri(Schemas.Fresh(), "options=-c%20synchronous_commit%3Dlocal"));
        Assert.False(local.HasSynchronousStandby);
    }

    [PostgresFact]
    public async Task ReopeningKeepsCountingAndANewerSchemaIsRefused()
    {
        string schema = Schemas.Fresh();
        string uri = Cluster.Uri(schema);
        await using (var journal = await PostgresMessageJournal.OpenAsync(uri))
        {
            await journal.AppendAsync(TestBatches.Of("a", "b"), default);
        }

        await using (var journal = await PostgresMessageJournal.OpenAsync(uri))
        {
            Assert.Equal(3, await journal.AppendAsync(TestBatches.Of("c"), default));
        }

        await Cluster.ExecuteAsync(Cluster.PrimaryPort, $"UPDATE {schema}.schema_version SET version = 99");
        var error = await Assert.ThrowsAsync<PostgresJournalFormatException>(() => PostgresMessageJournal.OpenAsync(uri));
        Assert.Contains("has schema version 99, newer than this tcptalk's 1", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PostgresJournalFormatException>(() => PostgresJournalReader.OpenAsync(uri));
    }

    [PostgresFact]
    public async Task ReaderOfAMissingSchemaSaysHowToCreateIt()
    {
        var error = await Assert.ThrowsAsync<PostgresJournalFormatException>(() => PostgresJournalReader.OpenAsync(Cluster.Uri(Schemas.Fresh())));
        Assert.Contains("has no tcptalk journal in schema t_", error.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task PasswordComesFromPgpassWhenTheUriHasNone()
    {
        string passfile = Path.Combine(Cluster.Folder, "test.pgpass");
        File.WriteAllText(passfile, $"127.0.0.1:*:*:postgres:{PostgresCluster.Password}\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passfile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        string uri = $"postgres://postgres@127.0.0.1:{Cluster.PrimaryPort}/postgres?schema={Schemas.Fresh()}&passfile={Uri.EscapeDataString(passfile)}";

        await using var journal = await PostgresMessageJournal.OpenAsync(uri);
        Assert.Equal(1, await journal.AppendAsync(TestBatches.Of("x"), default));

        var wrong = $"postgres://postgres:wrong@127.0.0.1:{Cluster.PrimaryPort}/postgres?schema={Schemas.Fresh()}";
        var error = await Assert.ThrowsAsync<JournalUnavailableExceptionAlias>(() => PostgresMessageJournal.OpenAsync(wrong));
        Assert.Contains("password authentication failed", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong", error.Message, StringComparison.Ordinal);
    }

    [PostgresFact]
    public async Task UnreachableDatabaseAtStartIsOneClearError()
    {
        int closed = Cluster.PrimaryPort + 1000 > 65535 ? 1 : Cluster.PrimaryPort + 1000;
        var error = await Assert.ThrowsAsync<JournalUnavailableExceptionAlias>(() =>
            PostgresMessageJournal.OpenAsync($"postgres://postgres:x@127.0.0.1:{closed}/postgres?connect_timeout=2"));
        Assert.StartsWith($"journal postgres://postgres@127.0.0.1:{closed}/postgres?schema=tcptalk cannot be opened: ", error.Message, StringComparison.Ordinal);
    }
}
