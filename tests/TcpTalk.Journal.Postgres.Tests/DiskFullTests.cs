using Microsoft.Extensions.Logging;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Postgres.Tests;

/// <summary>The journal's tables on a small disk (a tablespace on a tmpfs) that fills up: a cluster of its own.</summary>
public sealed class DiskFullTests
{
    [PostgresDiskFullFact]
    public async Task FullDiskFailsAppendsWithoutAckAndWritingResumesOnceThereIsRoom()
    {
        await using var cluster = await PostgresCluster.StartAsync(standby: false);
        string disk = await cluster.MountSmallDiskAsync(megabytes: 4);
        await cluster.ExecuteAsync(cluster.PrimaryPort, $"CREATE TABLESPACE small LOCATION '{disk}'");
        string schema = Schemas.Fresh();
        string uri = cluster.Uri(schema, "options=-c%20default_tablespace%3Dsmall");
        var log = new ListLogger();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(log));
        await using var journal = await PostgresMessageJournal.OpenAsync(uri, new PostgresJournalOptions { RecoveryProbeInterval = TimeSpan.FromMilliseconds(100) }, loggerFactory);

        // 64 KiB messages of random bytes (so TOAST cannot compress them) until the disk is full.
        var acked = new Dictionary<long, byte[]>();
        JournalUnavailableExceptionAlias? full = null;
        for (int i = 0; i < 200 && full is null; i++)
        {
            var message = new byte[64 * 1024];
            Random.Shared.NextBytes(message);
            try
            {
                acked[await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(), TestBatches.MicrosecondTime, MessageText.Utf8, message), default)] = message;
            }
            catch (JournalUnavailableExceptionAlias e)
            {
                full = e;
            }
        }

        Assert.NotNull(full);
        Assert.False(full.MayBeStored); // PostgreSQL answered with an ERROR: rolled back
        Assert.Contains("SQLSTATE 53100", full.Message, StringComparison.Ordinal);
        Assert.NotEmpty(acked);
        await Task.Delay(500); // five probes while the disk is full: none may report the journal writable
        Assert.False(journal.IsHealthy);
        Assert.Single(log.Lines, l => l.Contains("could not store", StringComparison.Ordinal));
        Assert.DoesNotContain(log.Lines, l => l.Contains("writable again", StringComparison.Ordinal));

        await cluster.GrowDiskAsync(disk, megabytes: 64);
        long next = await journal.AppendAsync(TestBatches.Of("after"), default).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(acked.Count + 1, next); // the failed transaction's ids were rolled back with it
        Assert.True(journal.IsHealthy);
        Assert.Single(log.Lines, l => l.Contains("writable again", StringComparison.Ordinal));

        await using var reader = await PostgresJournalReader.OpenAsync(uri);
        var stored = await reader.QueryAsync(JournalQuery.All).ToListAsync();
        Assert.Equal(acked.Count + 1, stored.Count);
        foreach (var record in stored.Take(acked.Count))
        {
            Assert.Equal(acked[record.Id], record.Raw);
        }
    }
}
