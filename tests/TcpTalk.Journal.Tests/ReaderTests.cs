using System.Net;
using System.Text;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Tests;

public class ReaderTests
{
    private static readonly DateTimeOffset T0 = TestBatches.Time;

    [Theory]
    [InlineData("since", new long[] { 2, 3, 4, 5 })]
    [InlineData("until", new long[] { 1, 2 })]
    [InlineData("since+until", new long[] { 2 })]
    [InlineData("from-exact", new long[] { 2 })]
    [InlineData("from-cidr", new long[] { 1, 2, 5 })]
    [InlineData("from-mapped-cidr", new long[] { 1, 2, 5 })]
    [InlineData("from-ipv6", new long[] { 4 })]
    [InlineData("contains", new long[] { 2, 3 })]
    [InlineData("contains-case", new long[] { 3 })]
    [InlineData("limit", new long[] { 1, 2 })]
    [InlineData("limit-newest", new long[] { 4, 5 })]
    [InlineData("after-id", new long[] { 4, 5 })]
    [InlineData("cidr+limit", new long[] { 1, 2 })]
    [InlineData("cidr+limit-newest", new long[] { 2, 5 })]
    [InlineData("none", new long[] { 1, 2, 3, 4, 5 })]
    public async Task FiltersSelectTheMatchingRecordsInIdOrder(string filter, long[] expected)
    {
        using var temp = new TempJournal();
        await WriteFiveAsync(temp.Path);
        var query = filter switch
        {
            "since" => new JournalQuery { Since = T0.AddSeconds(1) },
            "until" => new JournalQuery { Until = T0.AddSeconds(2) },
            "since+until" => new JournalQuery { Since = T0.AddSeconds(1), Until = T0.AddSeconds(2) },
            "from-exact" => new JournalQuery { From = IPNetwork.Parse("192.0.2.77/32") },
            "from-cidr" => new JournalQuery { From = IPNetwork.Parse("192.0.2.0/24") },
            "from-mapped-cidr" => new JournalQuery { From = IPNetwork.Parse("::ffff:192.0.2.0/120") },
            "from-ipv6" => new JournalQuery { From = IPNetwork.Parse("2001:db8::/32") },
            "contains" => new JournalQuery { Contains = "amma" },
            "contains-case" => new JournalQuery { Contains = "Gamma" },
            "limit" => new JournalQuery { Limit = 2 },
            "limit-newest" => new JournalQuery { Limit = 2, Newest = true },
            "after-id" => new JournalQuery { AfterId = 3 },
            "cidr+limit" => new JournalQuery { From = IPNetwork.Parse("192.0.2.0/24"), Limit = 2 },
            "cidr+limit-newest" => new JournalQuery { From = IPNetwork.Parse("192.0.2.0/24"), Limit = 2, Newest = true },
            _ => JournalQuery.All,
        };

        Assert.Equal(expected, (await Read.AllAsync(temp.Path, query)).Select(r => r.Id));
    }

    [Fact]
    public async Task LargeResultsArePagedWithoutLosingOrRepeatingARecord()
    {
        using var temp = new TempJournal();
        int total = JournalReader.PageSize * 2 + 500;
        int inNetwork = 0;
        await using (var journal = SqliteMessageJournal.Open(temp.Path))
        {
            for (int i = 0; i < total; i += 100)
            {
                var clientOf = i % 200 == 0 ? "10.0.0.1" : "10.0.1.1";
                inNetwork += i % 200 == 0 ? 100 : 0;
                var messages = Enumerable.Range(i, 100).Select(n => Encoding.UTF8.GetBytes($"m{n}")).ToArray();
                await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(client: clientOf), T0, MessageText.Utf8, messages), CancellationToken.None);
            }
        }

        var all = await Read.AllAsync(temp.Path);
        Assert.Equal(Enumerable.Range(1, total).Select(n => (long)n), all.Select(r => r.Id));

        var newest = await Read.AllAsync(temp.Path, new JournalQuery { Limit = JournalReader.PageSize + 10, Newest = true });
        Assert.Equal(Enumerable.Range(total - JournalReader.PageSize - 9, JournalReader.PageSize + 10).Select(n => (long)n), newest.Select(r => r.Id));

        var network = await Read.AllAsync(temp.Path, new JournalQuery { From = IPNetwork.Parse("10.0.0.0/24") });
        Assert.Equal(inNetwork, network.Count);
        Assert.All(network, r => Assert.Equal(IPAddress.Parse("10.0.0.1"), r.ClientAddress));
    }

    [Fact]
    public async Task FollowGivesTheBacklogThenEachNewMatchingRecordAsItIsCommitted()
    {
        using var temp = new TempJournal();
        await using var journal = SqliteMessageJournal.Open(temp.Path);
        await journal.AppendAsync(TestBatches.Of("old match", "old other", "old match 2"), CancellationToken.None);
        using var reader = JournalReader.Open(temp.Path, new JournalReaderOptions { PollInterval = TimeSpan.FromMilliseconds(10) });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10)); // bounds the test if records never come

        var seen = new List<string>();
        var following = Task.Run(async () =>
        {
            await foreach (var record in reader.FollowAsync(new JournalQuery { Contains = "match", Limit = 1, Newest = true }, stop.Token))
            {
                lock (seen)
                {
                    seen.Add(record.Text);
                }

                if (record.Text == "new match 2")
                {
                    return;
                }
            }
        });

        await Poll.UntilAsync(() => { lock (seen) { return seen.Count == 1; } });
        await journal.AppendAsync(TestBatches.Of("new other"), CancellationToken.None);
        await journal.AppendAsync(TestBatches.Of("new match 1", "new other 2"), CancellationToken.None);
        await journal.AppendAsync(TestBatches.Of("new match 2"), CancellationToken.None);
        await following;

        Assert.Equal(["old match 2", "new match 1", "new match 2"], seen); // the backlog's limit does not cap the live part
    }

    [Fact]
    public async Task FollowEndsWithCancellationWhenTheTokenIsCancelled()
    {
        using var temp = new TempJournal();
        await using var journal = SqliteMessageJournal.Open(temp.Path);
        using var reader = JournalReader.Open(temp.Path, new JournalReaderOptions { PollInterval = TimeSpan.FromMilliseconds(10) });
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var record in reader.FollowAsync(JournalQuery.All, stop.Token))
            {
                Assert.Fail($"nothing was written, but got {record}");
            }
        });
    }

    [Fact]
    public void MissingJournalIsReportedInOneSentence()
    {
        using var temp = new TempJournal();
        var error = Assert.Throws<FileNotFoundException>(() => JournalReader.Open(temp.Path));
        Assert.Equal($"journal {temp.Path} does not exist", error.Message);
        Assert.False(File.Exists(temp.Path)); // and the reader did not create it
    }

    [Fact]
    public async Task ReaderSeesOnlyCommittedRecordsWhileTheServerWrites()
    {
        using var temp = new TempJournal();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inTransaction = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new JournalHooks
        {
            BeforeCommit = () =>
            {
                inTransaction.TrySetResult();
                gate.Task.Wait(TimeSpan.FromSeconds(10)); // holds the writer inside its transaction
            },
        };
        await using var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, JournalSchema.Steps, hooks);
        var append = journal.AppendAsync(TestBatches.Of("uncommitted"), CancellationToken.None).AsTask();
        await inTransaction.Task;

        Assert.Empty(await Read.AllAsync(temp.Path));
        gate.SetResult();
        await append;
        Assert.Single(await Read.AllAsync(temp.Path));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void LimitBelowOneIsRefused(int limit)
    {
        var error = Assert.Throws<ArgumentException>(() => new JournalQuery { Limit = limit }.Validate());
        Assert.Equal($"Limit is {limit}; it must be at least 1 (or null for no limit)", error.Message);
    }

    private static async Task WriteFiveAsync(string path)
    {
        await using var journal = SqliteMessageJournal.Open(path);
        (string Client, string Text)[] rows =
        [
            ("192.0.2.1", "alpha"),
            ("192.0.2.77", "beta gamma"),
            ("198.51.100.5", "Gamma"),
            ("2001:db8::1", "delta"),
            ("::ffff:192.0.2.200", "alpha again"),
        ];
        for (int i = 0; i < rows.Length; i++)
        {
            var batch = TestBatches.Of(TestBatches.Connection(id: i + 1, client: rows[i].Client), T0.AddSeconds(i), MessageText.Utf8, Encoding.UTF8.GetBytes(rows[i].Text));
            await journal.AppendAsync(batch, CancellationToken.None);
        }
    }
}
