using System.Diagnostics;
using Xunit.Abstractions;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Postgres.Tests;

[Collection(SharedClusterCollection.Name)]
public sealed class FollowTests(SharedCluster shared, ITestOutputHelper output)
{
    private PostgresCluster Cluster => shared.Cluster;

    [PostgresFact]
    public async Task FollowReturnsTheExistingThenEachNewCommitWithinMilliseconds()
    {
        string uri = Cluster.Uri(Schemas.Fresh());
        await using var journal = await PostgresMessageJournal.OpenAsync(uri, new PostgresJournalOptions { NodeName = "n1" });
        await journal.AppendAsync(TestBatches.Of("old-1", "old-2"), default);
        // A fallback poll far beyond the bound asserted below: only NOTIFY can wake the follower in time.
        await using var reader = await PostgresJournalReader.OpenAsync(uri, new PostgresJournalReaderOptions { FallbackPollInterval = TimeSpan.FromSeconds(30) });
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var follow = reader.FollowAsync(new JournalQuery { Newest = true, Limit = 1, Contains = "-" }, stop.Token).GetAsyncEnumerator(stop.Token);

        Assert.True(await follow.MoveNextAsync());
        Assert.Equal("old-2", follow.Current.Text);

        var delays = new List<double>();
        for (int i = 0; i < 7; i++)
        {
            var next = follow.MoveNextAsync().AsTask();
            await Task.Delay(50); // the follower is waiting for a NOTIFY now
            await journal.AppendAsync(TestBatches.Of("skip", $"new-{i}"), default);
            var acked = Stopwatch.StartNew();
            Assert.True(await next.WaitAsync(TimeSpan.FromSeconds(10)));
            delays.Add(acked.Elapsed.TotalMilliseconds);
            Assert.Equal($"new-{i}", follow.Current.Text); // the filter applies to followed records too
        }

        delays.Sort();
        output.WriteLine($"ack to follow: median {delays[3]:F1} ms, max {delays[^1]:F1} ms");
        Assert.True(delays[3] < 50, $"median ack-to-follow delay {delays[3]:F1} ms (all: {string.Join(", ", delays.Select(d => d.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))})");
        await stop.CancelAsync();
    }
}
