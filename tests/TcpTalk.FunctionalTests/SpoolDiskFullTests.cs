using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// <c>send --spool</c> when the spool's disk fills up: the sender runs in a mount namespace of its own with its spool
/// on a 4 MiB tmpfs, which the test fills (through <c>/proc/PID/root</c>, as <see cref="JournalDiskFullTests"/> does).
/// A batch that cannot be stored ends <c>send</c> with exit 13 and one <c>tcptalk:</c> line; what was spooled before
/// is still there (the shell copies the spool out of the tmpfs before the namespace goes) and is delivered later.
/// </summary>
[Collection(JournalProofsCollection.Name)]
public sealed class SpoolDiskFullTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-spool-full-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [MountNamespaceFact]
    public async Task AFullDiskEndsSendWithExit13AndKeepsEverythingSpooledBefore()
    {
        string mount = Path.Combine(_dir, "fs");
        string copy = Path.Combine(_dir, "copy");
        Directory.CreateDirectory(mount);
        string spool = Path.Combine(mount, "spool");
        int port = FreePort.Get(); // nobody listens yet: everything stays spooled
        string script = $"mount -t tmpfs -o size=4m tcptalk-spool-full '{mount}' || exit 99; " +
                        $"dotnet '{Tcptalk.Dll}' send --spool '{spool}' -v --retry-max-delay 300ms 127.0.0.1:{port}; code=$?; " +
                        $"cp -a '{spool}' '{copy}'; exit $code";
        await using var send = RunningProcess.Start("unshare", ["-m", "--propagation", "private", "sh", "-c", script]);
        await send.Stdin.WriteAsync(string.Concat(Enumerable.Range(1, 20).Select(i => $"before-{i}\n")));
        await send.Stdin.FlushAsync();
        await send.WaitForLineAsync(l => l.StartsWith("retry in ", StringComparison.Ordinal) && l.EndsWith("backlog 20 message(s), 171 bytes", StringComparison.Ordinal), stderr: true);

        string disk = $"/proc/{send.Id}/root{mount}"; // the tmpfs, seen through the sender's mount namespace
        Assert.True(File.Exists(Path.Combine(disk, "spool", "spool.db")) && !Directory.Exists(spool), "the spool is not on the sender's private tmpfs");
        JournalDiskFullTests.Fill(Path.Combine(disk, "filler"), headroom: 0);
        try
        {
            string line = new string('z', 1000) + "\n";
            for (int i = 0; i < 8000 && !send.HasExited; i++) // 8 MB: twice the whole tmpfs
            {
                await send.Stdin.WriteAsync(line);
            }

            await send.Stdin.FlushAsync();
        }
        catch (IOException)
        {
            // the sender exited: the pipe is broken
        }

        Assert.Equal(13, await send.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        var refusals = send.Stderr.Where(l => l.StartsWith("tcptalk: ", StringComparison.Ordinal)).ToList();
        Assert.Equal([$"tcptalk: spool {spool}: messages not stored: the disk is full"], refusals);
        Assert.DoesNotContain(send.Stderr, l => l.Contains("   at ", StringComparison.Ordinal)); // no stack trace

        // The copy taken before the namespace went: the 20 lines, each delivered once a server is up.
        string db = Path.Combine(_dir, "serve.db");
        await using var server = await Tcptalk.ServeAsync(["--listen", $"127.0.0.1:{port}", "--journal", db, "--ack"]);
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--spool", copy, $"127.0.0.1:{port}"], "");
        Assert.True(code == 0, $"draining the copy exited {code}: {string.Join(" | ", stderr)}");
        Assert.Equal(0, await server.StopAsync());
        var stored = (await JournalFile.ReadAsync(db)).Select(r => r.Text).ToList();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => $"before-{i}"), stored.Where(t => t.StartsWith("before-", StringComparison.Ordinal)));
        Assert.All(stored.Where(t => !t.StartsWith("before-", StringComparison.Ordinal)), t => Assert.Equal(new string('z', 1000), t)); // whole batches, committed before the disk filled
    }
}
