namespace TcpTalk.Journal.Tests;

public class GroupCommitTests
{
    [Fact]
    public async Task EverythingQueuedWhileTheWriterIsBusyGoesIntoOneTransaction()
    {
        using var temp = new TempJournal();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new JournalHooks { BeforeTransactionAsync = () => gate.Task };
        await using var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, JournalSchema.Steps, hooks);

        var appends = Enumerable.Range(0, 10)
            .Select(i => journal.AppendAsync(TestBatches.Of($"a{i}", $"b{i}"), CancellationToken.None).AsTask())
            .ToArray();
        Assert.Equal(10, journal.QueuedBatches);
        Assert.Equal(0, journal.Commits);

        gate.SetResult();
        long[] firstIds = await Task.WhenAll(appends);

        Assert.Equal(1, journal.Commits);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 1L + 2 * i), firstIds); // queue order, consecutive per batch
        Assert.Equal(20, (await Read.AllAsync(temp.Path)).Count);
    }

    [Fact]
    public async Task FullQueueMakesAppendWaitUntilTheWriterDrainsIt()
    {
        using var temp = new TempJournal();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hooks = new JournalHooks { BeforeTransactionAsync = () => gate.Task };
        await using var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions { MaxQueuedBatches = 2 }, null, JournalSchema.Steps, hooks);

        var first = journal.AppendAsync(TestBatches.Of("1"), CancellationToken.None).AsTask();
        var second = journal.AppendAsync(TestBatches.Of("2"), CancellationToken.None).AsTask();
        using var giveUp = new CancellationTokenSource();
        var cancelled = journal.AppendAsync(TestBatches.Of("never"), giveUp.Token).AsTask();
        var waiting = journal.AppendAsync(TestBatches.Of("3"), CancellationToken.None).AsTask();
        await Task.Delay(50);

        Assert.Equal(2, journal.QueuedBatches); // the bound holds: the others wait outside the queue
        Assert.False(waiting.IsCompleted);
        // Cancellation is honoured only while waiting for room, so this proves the batch never entered the queue.
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

        gate.SetResult();
        long[] ids = await Task.WhenAll(first, second, waiting);
        Assert.Equal([1L, 2L, 3L], ids);
        Assert.Equal(["1", "2", "3"], (await Read.AllAsync(temp.Path)).Select(r => r.Text));
    }
}
