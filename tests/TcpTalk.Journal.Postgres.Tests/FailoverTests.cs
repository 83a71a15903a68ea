using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Postgres.Tests;

/// <summary>Kills the primary under load and promotes the standby: a cluster of its own, since it does not survive the test.</summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    [PostgresFact]
    public async Task PrimaryStoppedMidLoadThenStandbyPromotedLosesNoAcknowledgedMessage()
    {
        await using var cluster = await PostgresCluster.StartAsync(standby: true);
        string schema = Schemas.Fresh();
        var log = new ListLogger();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(log).SetMinimumLevel(LogLevel.Information));
        await using var journal = await PostgresMessageJournal.OpenAsync(cluster.Uri(schema, "connect_timeout=2"),
            new PostgresJournalOptions { NodeName = "n1", RecoveryProbeInterval = TimeSpan.FromMilliseconds(100) }, loggerFactory);
        Assert.True(journal.HasSynchronousStandby);

        var acked = new ConcurrentDictionary<string, long>();
        var failures = new ConcurrentBag<JournalUnavailableExceptionAlias>();
        using var stop = new CancellationTokenSource();
        async Task LoadAsync(int writer)
        {
            for (int seq = 0; !stop.IsCancellationRequested; seq++)
            {
                string text = $"w{writer}-{seq}";
                try
                {
                    acked[text] = await journal.AppendAsync(TestBatches.Of(text), default);
                }
                catch (JournalUnavailableExceptionAlias e)
                {
                    failures.Add(e);
                    await Task.Delay(20);
                }
            }
        }

        // A follower from before the fault: it must go on, on the promoted standby, by itself.
        await using var followReader = await PostgresJournalReader.OpenAsync(cluster.Uri(schema, "connect_timeout=2"),
            new PostgresJournalReaderOptions { ReconnectDelay = TimeSpan.FromMilliseconds(100) });
        long followed = 0;
        var follow = Task.Run(async () =>
        {
            await foreach (var record in followReader.FollowAsync(JournalQuery.All, stop.Token))
            {
                Assert.True(record.Id > Volatile.Read(ref followed), $"follow returned id {record.Id} after {followed}");
                Volatile.Write(ref followed, record.Id);
            }
        });

        var load = Enumerable.Range(0, 8).Select(LoadAsync).ToArray();
        await Poll.UntilAsync(() => Task.FromResult(acked.Count >= 200), TimeSpan.FromSeconds(20), "200 acknowledged appends before the fault");

        await cluster.StopPrimaryAsync(); // -m immediate: the primary dies as in a crash, mid-load
        await Poll.UntilAsync(() => Task.FromResult(!failures.IsEmpty), TimeSpan.FromSeconds(20), "appends fail once the primary is gone");
        Assert.False(journal.IsHealthy);
        int ackedAtFault = acked.Count;
        await Task.Delay(300);
        Assert.InRange(acked.Count, ackedAtFault, ackedAtFault + 8); // at most the commits already in flight complete

        var promoted = Stopwatch.StartNew();
        await cluster.PromoteStandbyAsync();
        await Poll.UntilAsync(() => Task.FromResult(journal.IsHealthy && acked.Count > ackedAtFault + 100), TimeSpan.FromSeconds(30),
            "the journal writes to the promoted standby on its own");
        output.WriteLine($"acked {ackedAtFault} before the fault, writable again {promoted.ElapsedMilliseconds} ms after promotion, {failures.Count} failed appends ({failures.Count(f => f.MayBeStored)} 'may not be stored')");
        long lastAcked = acked.Values.Max();
        await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref followed) >= lastAcked), TimeSpan.FromSeconds(20),
            "the follower, reconnected to the promoted standby, reaches the last acknowledged id");
        await stop.CancelAsync();
        await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(20));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => follow.WaitAsync(TimeSpan.FromSeconds(20)));

        // Every acknowledged message is in the new primary, under the id it was acknowledged with.
        await using var reader = await PostgresJournalReader.OpenAsync(cluster.Uri(schema));
        var stored = (await reader.QueryAsync(JournalQuery.All).ToListAsync()).ToDictionary(r => r.Id, r => r.Text);
        var lost = acked.Where(a => !stored.TryGetValue(a.Value, out var text) || text != a.Key).ToList();
        Assert.Empty(lost);
        Assert.Equal(Enumerable.Range(1, stored.Count).Select(i => (long)i), stored.Keys.Order()); // still gapless
        Assert.Single(log.Lines, l => l.Contains("could not store", StringComparison.Ordinal)); // one line per outage
        Assert.Single(log.Lines, l => l.Contains("is writable again on 127.0.0.1:" + cluster.StandbyPort, StringComparison.Ordinal));
    }
}
