using System.Text;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Journal.Tests;

public class FailureTests
{
    [Fact]
    public async Task FailedCommitStoresNothingReportsOneSentenceAndTheNextAppendRecovers()
    {
        using var temp = new TempJournal();
        int faults = 0;
        var hooks = new JournalHooks { BeforeCommit = () => { if (Interlocked.Exchange(ref faults, 0) == 1) throw new IOException("Input/output error."); } };
        await using var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, JournalSchema.Steps, hooks);
        Assert.Equal(1, await journal.AppendAsync(TestBatches.Of("before"), CancellationToken.None));

        faults = 1;
        var error = await Assert.ThrowsAsync<JournalUnavailableException>(() => journal.AppendAsync(TestBatches.Of("lost 1", "lost 2"), CancellationToken.None).AsTask());
        Assert.Equal($"journal {temp.Path} could not store the messages: Input/output error", error.Message);
        Assert.False(journal.IsHealthy);
        Assert.Equal(["before"], (await Read.AllAsync(temp.Path)).Select(r => r.Text)); // the inserts were rolled back

        Assert.Equal(2, await journal.AppendAsync(TestBatches.Of("after"), CancellationToken.None)); // unreported ids are reused
        Assert.True(journal.IsHealthy);
        Assert.Equal(["before", "after"], (await Read.AllAsync(temp.Path)).Select(r => r.Text));
    }

    [Fact]
    public async Task UnhealthyJournalProbesAndTurnsHealthyWithoutAnyAppend()
    {
        using var temp = new TempJournal();
        int failing = 1;
        int probes = 0;
        var hooks = new JournalHooks
        {
            BeforeCommit = () =>
            {
                Interlocked.Increment(ref probes);
                if (Volatile.Read(ref failing) == 1)
                {
                    throw new IOException("Input/output error");
                }
            },
        };
        var options = new JournalOptions { RecoveryProbeInterval = TimeSpan.FromMilliseconds(20) };
        await using var journal = SqliteMessageJournal.Open(temp.Path, options, null, JournalSchema.Steps, hooks);
        await Assert.ThrowsAsync<JournalUnavailableException>(() => journal.AppendAsync(TestBatches.Of("lost"), CancellationToken.None).AsTask());

        await Poll.UntilAsync(() => Volatile.Read(ref probes) >= 3); // it keeps trying on its own...
        Assert.False(journal.IsHealthy);
        Volatile.Write(ref failing, 0);
        await Poll.UntilAsync(() => journal.IsHealthy); // ...and recovers without an append

        Assert.Empty(await Read.AllAsync(temp.Path)); // a probe stores no message
        Assert.Equal(1, await journal.AppendAsync(TestBatches.Of("first"), CancellationToken.None));
    }

    [Fact]
    public async Task FullDiskFailsTheAppendUntilThereIsRoomAgain()
    {
        using var temp = new TempJournal();
        bool full = true;
        var hooks = new JournalHooks
        {
            // SQLite's own size cap gives the real SQLITE_FULL path without filling this machine's disk.
            ConnectionOpened = connection =>
            {
                if (Volatile.Read(ref full))
                {
                    long pages = Sql.Scalar<long>(connection, "PRAGMA page_count");
                    Sql.Scalar<long>(connection, $"PRAGMA max_page_count = {pages}");
                }
            },
        };
        await using var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, JournalSchema.Steps, hooks);
        var big = TestBatches.Of(TestBatches.Connection(), TestBatches.Time, MessageText.Utf8, new byte[64 * 1024], new byte[64 * 1024]);

        var error = await Assert.ThrowsAsync<JournalUnavailableException>(() => journal.AppendAsync(big, CancellationToken.None).AsTask());
        Assert.Equal($"journal {temp.Path} could not store the messages: the disk is full", error.Message);
        Assert.False(journal.IsHealthy);
        await Assert.ThrowsAsync<JournalUnavailableException>(() => journal.AppendAsync(big, CancellationToken.None).AsTask());
        Assert.False(journal.IsHealthy); // still failing: it tried again and said so
        Assert.Equal(2, journal.FailedCommits);

        Volatile.Write(ref full, false);
        Assert.Equal(1, await journal.AppendAsync(big, CancellationToken.None));
        Assert.True(journal.IsHealthy);
        Assert.Equal(2, (await Read.AllAsync(temp.Path)).Count);
    }

    [Fact]
    public async Task WriteLockHeldByAnotherProgramFailsTheAppendAfterTheLockTimeoutThenRecovers()
    {
        using var temp = new TempJournal();
        await using var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions { LockTimeout = TimeSpan.FromMilliseconds(200) });
        using (var intruder = Sql.Open(temp.Path))
        using (var transaction = intruder.BeginTransaction(deferred: false)) // BEGIN IMMEDIATE: holds the write lock
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<JournalUnavailableException>(() => journal.AppendAsync(TestBatches.Of("blocked"), CancellationToken.None).AsTask());
            Assert.Equal($"journal {temp.Path} could not store the messages: another process holds the journal's write lock", error.Message);
            Assert.False(journal.IsHealthy);
            Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(190), TimeSpan.FromSeconds(5)); // it waited for the lock first
        }

        Assert.Equal(1, await journal.AppendAsync(TestBatches.Of("through"), CancellationToken.None));
        Assert.True(journal.IsHealthy);
    }

    [Fact]
    public async Task EveryBatchOfAFailedGroupFailsAndNoneIsStored()
    {
        using var temp = new TempJournal();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int faults = 1;
        var hooks = new JournalHooks
        {
            BeforeTransactionAsync = () => gate.Task,
            BeforeCommit = () => { if (Interlocked.Exchange(ref faults, 0) == 1) throw new IOException("No space left on device"); },
        };
        await using var journal = SqliteMessageJournal.Open(temp.Path, new JournalOptions(), null, JournalSchema.Steps, hooks);
        var appends = Enumerable.Range(0, 5).Select(i => journal.AppendAsync(TestBatches.Of($"m{i}"), CancellationToken.None).AsTask()).ToArray();
        gate.SetResult();

        foreach (var append in appends)
        {
            await Assert.ThrowsAsync<JournalUnavailableException>(() => append);
        }

        Assert.Empty(await Read.AllAsync(temp.Path));
        Assert.Equal(1, journal.FailedCommits);
    }

    [Fact]
    public async Task StrictDecoderDoesNotStopTheRawBytesFromBeingStored()
    {
        using var temp = new TempJournal();
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        await using (var journal = SqliteMessageJournal.Open(temp.Path))
        {
            await journal.AppendAsync(TestBatches.Of(TestBatches.Connection(), TestBatches.Time, strict, [0x61, 0xFF]), CancellationToken.None);
        }

        var record = Assert.Single(await Read.AllAsync(temp.Path));
        Assert.Equal([0x61, 0xFF], record.Raw);
        Assert.Equal("a\uFFFD", record.Text);
    }
}
