using TcpTalk.TestSupport;

namespace TcpTalk.Journal.Tests;

public class SingleWriterTests
{
    [Fact]
    public async Task SecondJournalInTheSameProcessIsRefusedAtOnce()
    {
        using var temp = new TempJournal();
        await using (var journal = SqliteMessageJournal.Open(temp.Path))
        {
            var error = Assert.Throws<JournalInUseException>(() => SqliteMessageJournal.Open(Path.Combine(temp.Folder, ".", "tcptalk.db")));
            Assert.Equal($"journal {temp.Path} is already open in this process (pid {Environment.ProcessId})", error.Message);
            Assert.Equal(Environment.ProcessId, error.ProcessId);
            Assert.True(journal.IsHealthy); // the refused opener changed nothing
            Assert.Equal(1, await journal.AppendAsync(TestBatches.Of("still mine"), CancellationToken.None));
        }

        await using var reopened = SqliteMessageJournal.Open(temp.Path);
        Assert.Equal(2, await reopened.AppendAsync(TestBatches.Of("after close"), CancellationToken.None));
    }

    [Fact]
    public async Task OpenerIsRefusedWithThePidOfTheProcessHoldingTheJournal()
    {
        using var temp = new TempJournal();
        using (var holder = LockHolder.Start(temp.Path))
        {
            string line = await holder.ReadLineAsync();
            Assert.Equal($"holding {holder.Id}", line);

            var error = Assert.Throws<JournalInUseException>(() => SqliteMessageJournal.Open(temp.Path));
            Assert.Equal($"journal {temp.Path} is in use by another tcptalk process (pid {holder.Id})", error.Message);
            Assert.Equal(0, await holder.StopAsync());
        }

        await using var journal = SqliteMessageJournal.Open(temp.Path); // released when the holder exited
        Assert.Equal(1, await journal.AppendAsync(TestBatches.Of("mine now"), CancellationToken.None));
    }

    [Fact]
    public async Task OtherProcessIsRefusedWhileThisOneHoldsTheJournal()
    {
        using var temp = new TempJournal();
        await using var journal = SqliteMessageJournal.Open(temp.Path);
        using var other = LockHolder.Start(temp.Path);

        Assert.Equal($"refused journal {temp.Path} is in use by another tcptalk process (pid {Environment.ProcessId})", await other.ReadLineAsync());
        Assert.Equal(3, await other.StopAsync());
    }

    [Fact]
    public async Task KilledHolderLeavesNoStaleLock()
    {
        using var temp = new TempJournal();
        using (var holder = LockHolder.Start(temp.Path))
        {
            Assert.StartsWith("holding", await holder.ReadLineAsync(), StringComparison.Ordinal);
            holder.Kill();
        }

        await using var journal = SqliteMessageJournal.Open(temp.Path);
        Assert.True(journal.IsHealthy);
    }

    /// <summary>The helper process (tests/TcpTalk.Journal.LockHolder) that holds a journal until its stdin closes.</summary>
    private static class LockHolder
    {
        public static HelperProcess Start(string journalPath) => HelperProcess.Start("TcpTalk.Journal.LockHolder.dll", journalPath);
    }
}
