using System.Diagnostics;
using System.Globalization;
using TcpTalk.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// "Nothing received is ever lost" when the disk reports I/O errors: while clients send without pause to
/// <c>serve --journal X --ack</c>, strace attaches to the server and makes every <c>pwrite64</c> (the WAL and
/// database writes) or every <c>fsync</c> (the commit's durability point) fail with EIO, then detaches. Nothing is
/// acknowledged while nothing can be stored; the server keeps serving, and the journal recovers by itself.
/// </summary>
[Collection(JournalProofsCollection.Name)]
public sealed class JournalIoErrorTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-ioerror-").FullName;

    private string Db => Path.Combine(_dir, "talk.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [PtraceFact]
    public async Task FailingWritesAreRefusedNeverAcknowledgedAndTheJournalRecovers()
    {
        bool refusedStored = await InjectAsync("pwrite64");

        // A failed write means no commit record in the WAL: the refused message really is not stored.
        Assert.False(refusedStored, "a message refused because its write failed is in the journal");
    }

    [PtraceFact]
    public async Task FailingFsyncsAreRefusedNeverAcknowledgedAndTheJournalRecovers()
    {
        // After a failed fsync the commit's frames are in the WAL all the same, and SQLite's WAL recovery on the next
        // connection may count them as committed, so the client is told "may not be stored" and the message may then
        // be in the journal (never acknowledged, so no promise is broken; see docs/RELIABILITY.md).
        bool refusedStored = await InjectAsync("fsync");
        output.WriteLine($"fsync EIO: the message refused as not stored {(refusedStored ? "is" : "is not")} in the journal");
    }

    /// <summary>
    /// Runs load, then the fault window, then load again; asserts the promise; returns whether the message a
    /// dedicated client had refused during the fault is in the journal.
    /// </summary>
    private async Task<bool> InjectAsync(string syscall)
    {
        await using var server = await Tcptalk.ServeAsync("--journal", Db, "--ack");
        var ledger = new AckLedger();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(1, 2).Select(i => new LoadClient(i, server.Port, ledger, maxInFlight: 8).RunAsync(stop.Token)).ToArray();
        string refused = $"refused-during-{syscall}-eio";
        int acksBefore, errorsDuring;
        TimeSpan recovery;
        try
        {
            await ledger.WaitForAcksAsync(20, TimeSpan.FromSeconds(20));

            // Fault window: every traced call fails with EIO for as long as strace is attached.
            await using (var strace = RunningProcess.Start("strace",
                ["-f", "-p", server.Process.Id.ToString(CultureInfo.InvariantCulture), "-o", "/dev/null", "-e", $"trace={syscall}", "-e", $"inject={syscall}:error=EIO"]))
            {
                await strace.WaitForLineAsync(l => l.Contains("attached", StringComparison.Ordinal), stderr: true);
                await Task.Delay(200); // strace sets up each thread at its next stop, just after that line
                using (var client = await AckClient.ConnectAsync(server.Loopback))
                {
                    var reply = await client.SendAsync(refused);
                    Assert.Null(reply.AckId);
                    // A failed write rolls back: "not stored". A failed fsync leaves the frames in the WAL: "may not be".
                    Assert.Equal(syscall == "fsync"
                        ? $"error: messages may not be stored: journal {Db} could not make the messages durable: an I/O error occurred"
                        : $"error: messages not stored: journal {Db} could not store the messages: an I/O error occurred", reply.Frame);
                    Assert.Equal("", await client.ReadToEndAsync());
                }

                // Acks of commits made before the fault have long arrived: from here on none may come.
                acksBefore = ledger.AckCount;
                await Task.Delay(500);
                Assert.Equal(acksBefore, ledger.AckCount);
                errorsDuring = ledger.Errors.Count;
                Assert.True(errorsDuring > 0, "the load clients were never refused during the fault");
                Assert.False(server.Process.HasExited);
                strace.Signal("INT"); // strace detaches; the server runs on
                await strace.WaitForExitAsync(TimeSpan.FromSeconds(10));
            }

            // Recovery: the next commit succeeds, without a restart.
            var watch = Stopwatch.StartNew();
            await ledger.WaitForAcksAsync(acksBefore + 1, TimeSpan.FromSeconds(10));
            recovery = watch.Elapsed;
            await ledger.WaitForAcksAsync(acksBefore + 20, TimeSpan.FromSeconds(10));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(10));
        }

        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--ack", "-v", $"127.0.0.1:{server.Port}", "after"]);
        Assert.True(code == 0, string.Join(" | ", stderr));
        Assert.Equal(0, await server.StopAsync());
        Assert.Contains(server.Process.Stderr, l => l.Contains("TcpTalk.Journal[111]", StringComparison.Ordinal));

        var rows = await JournalFile.ReadAsync(Db);
        var textById = rows.ToDictionary(r => r.Id, r => r.Text);
        var lost = ledger.Acked.Where(a => !textById.TryGetValue(a.Value, out string? text) || text != a.Key).Select(a => a.Key).ToList();
        var duplicates = rows.GroupBy(r => r.Text).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        bool refusedStored = textById.ContainsValue(refused);
        int stored = rows.Count(r => r.Text.StartsWith('c') && !ledger.Acked.ContainsKey(r.Text));
        output.WriteLine($"{syscall} EIO: acked {ledger.AckCount} (before the fault {acksBefore}), refused connections {errorsDuring}, " +
                         $"acked-but-lost {lost.Count}, duplicates {duplicates.Count}, stored-but-unacked {stored}, " +
                         $"recovery (strace detached to next ack) {recovery.TotalMilliseconds:0} ms");

        Assert.Empty(ledger.Problems);
        Assert.Empty(lost);
        Assert.Empty(duplicates);
        Assert.Equal("ok", JournalFile.IntegrityCheck(Db));
        return refusedStored;
    }
}
