using System.Collections.Concurrent;
using Npgsql;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Postgres.Tests;

[Collection(SharedClusterCollection.Name)]
public sealed class CommitTests(SharedCluster shared)
{
    private PostgresCluster Cluster => shared.Cluster;

    private Task<long> CountAsync(string schema) =>
        Cluster.ScalarAsync(Cluster.PrimaryPort, $"SELECT count(*) FROM {schema}.messages").ContinueWith(t => (long)t.Result!, TaskScheduler.Default);

    [PostgresFact]
    public async Task AppendCompletesOnlyAfterCommitReturned()
    {
        string schema = Schemas.Fresh();
        var atCommit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new PostgresJournalHooks
        {
            BeforeCommitAsync = async _ =>
            {
                atCommit.TrySetResult();
                await release.Task;
            },
        };
        await using var journal = await PostgresMessageJournal.OpenAsync(Cluster.Uri(schema), new PostgresJournalOptions(), null, PostgresJournalSchema.Steps, hooks, default);

        var append = journal.AppendAsync(TestBatches.Of("one", "two"), default).AsTask();
        await atCommit.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // The rows are copied but not committed: no acknowledgement yet, and nobody else can see them.
        await Task.Delay(100);
        Assert.False(append.IsCompleted);
        Assert.Equal(0, await CountAsync(schema));

        release.SetResult();
        Assert.Equal(1, await append.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(2, await CountAsync(schema));
    }

    [PostgresFact]
    public async Task ConnectionLostDuringCommitIsMayNotBeStoredAndTheNextAppendReconnects()
    {
        string schema = Schemas.Fresh();
        int calls = 0;
        var hooks = new PostgresJournalHooks
        {
            BeforeCommitAsync = async connection =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    // Another session ends the writer's backend, so COMMIT meets a dead connection.
                    await Cluster.ExecuteAsync(Cluster.PrimaryPort, $"SELECT pg_terminate_backend({connection.ProcessID})");
                }
            },
        };
        await using var journal = await PostgresMessageJournal.OpenAsync(Cluster.Uri(schema), new PostgresJournalOptions(), null, PostgresJournalSchema.Steps, hooks, default);

        var error = await Assert.ThrowsAsync<JournalUnavailableExceptionAlias>(async () => await journal.AppendAsync(TestBatches.Of("lost"), default));
        Assert.True(error.MayBeStored);
        Assert.Contains("may not be stored", error.Message, StringComparison.Ordinal);
        Assert.False(journal.IsHealthy);

        // The terminated transaction never committed: its ids are handed out again, without a gap.
        Assert.Equal(1, await journal.AppendAsync(TestBatches.Of("kept"), default).AsTask().WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(journal.IsHealthy);
        Assert.Equal(1, await CountAsync(schema));
    }

    [PostgresFact]
    public async Task FailureBeforeCommitIsNotStoredAndNothingIsAcknowledged()
    {
        string schema = Schemas.Fresh();
        int calls = 0;
        var hooks = new PostgresJournalHooks
        {
            BeforeCommitAsync = async connection =>
            {
                if (Interlocked.Increment(ref calls) == 1)
                {
                    await using var command = new NpgsqlCommand("SELECT 1/0", connection);
                    await command.ExecuteNonQueryAsync();
                }
            },
        };
        await using var journal = await PostgresMessageJournal.OpenAsync(Cluster.Uri(schema), new PostgresJournalOptions(), null, PostgresJournalSchema.Steps, hooks, default);

        var error = await Assert.ThrowsAsync<JournalUnavailableExceptionAlias>(async () => await journal.AppendAsync(TestBatches.Of("x"), default));
        Assert.False(error.MayBeStored);
        Assert.Contains("could not store the messages: division by zero (SQLSTATE 22012)", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, await CountAsync(schema));
        Assert.Equal(1, await journal.AppendAsync(TestBatches.Of("y"), default));
    }

    [PostgresFact]
    public async Task FullQueueMakesAppendsWaitInsteadOfGrowing()
    {
        string schema = Schemas.Fresh();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new PostgresJournalHooks { BeforeCommitAsync = _ => release.Task };
        await using var journal = await PostgresMessageJournal.OpenAsync(Cluster.Uri(schema), new PostgresJournalOptions { MaxQueuedBatches = 2 }, null, PostgresJournalSchema.Steps, hooks, default);

        var first = journal.AppendAsync(TestBatches.Of("1"), default).AsTask();   // taken by the writer, held at COMMIT
        await Task.Delay(200);
        var queued = new[] { journal.AppendAsync(TestBatches.Of("2"), default).AsTask(), journal.AppendAsync(TestBatches.Of("3"), default).AsTask() };
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await journal.AppendAsync(TestBatches.Of("4"), cancel.Token));

        release.SetResult();
        Assert.Equal(1, await first.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(new long[] { 2, 3 }, await Task.WhenAll(queued).WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, await CountAsync(schema)); // the cancelled one was never stored
    }

    [PostgresFact]
    public async Task IdsIncreaseInCommitOrderAcrossTwoNodesWritingAtOnce()
    {
        string uri = Cluster.Uri(Schemas.Fresh());
        await using var a = await PostgresMessageJournal.OpenAsync(uri, new PostgresJournalOptions { NodeName = "node-a" });
        await using var b = await PostgresMessageJournal.OpenAsync(uri, new PostgresJournalOptions { NodeName = "node-b" });
        var acked = new ConcurrentBag<(string Node, int Writer, int Seq, long Id)>();

        async Task WriteAsync(PostgresMessageJournal journal, string node, int writer)
        {
            for (int seq = 0; seq < 40; seq++)
            {
                long id = await journal.AppendAsync(TestBatches.Of($"{node}/{writer}/{seq}", "second"), default);
                acked.Add((node, writer, seq, id));
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).SelectMany(w => new[] { WriteAsync(a, "node-a", w), WriteAsync(b, "node-b", w) }))
            .WaitAsync(TimeSpan.FromSeconds(60));

        await using var reader = await PostgresJournalReader.OpenAsync(uri);
        var records = await reader.QueryAsync(JournalQuery.All).ToListAsync();
        // Unique and gapless across both nodes, and each node's rows are in both.
        Assert.Equal(Enumerable.Range(1, 640).Select(i => (long)i), records.Select(r => r.Id));
        Assert.Equal(320, records.Count(r => r.NodeName == "node-a"));
        Assert.Equal(320, records.Count(r => r.NodeName == "node-b"));
        // Every acknowledged id holds the message acknowledged, and one writer's later appends got higher ids.
        foreach (var (node, writer, seq, id) in acked)
        {
            Assert.Equal($"{node}/{writer}/{seq}", records[(int)id - 1].Text);
            Assert.Equal(node, records[(int)id - 1].NodeName);
        }

        foreach (var stream in acked.GroupBy(x => (x.Node, x.Writer)))
        {
            var ids = stream.OrderBy(x => x.Seq).Select(x => x.Id).ToArray();
            Assert.Equal(ids.Order(), ids);
        }

        Assert.Contains(records.Zip(records.Skip(1)), pair => pair.First.NodeName != pair.Second.NodeName); // they really interleaved
    }
}
