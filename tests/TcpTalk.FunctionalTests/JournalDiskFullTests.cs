using System.Diagnostics;
using Microsoft.Win32.SafeHandles;
using TcpTalk.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// "Nothing received is ever lost" when the disk fills up: the server runs in a mount namespace of its own with its
/// journal on a 4 MiB tmpfs, which the test fills (through <c>/proc/PID/root</c>, the server's view of the mounts).
/// A message that cannot be stored is refused, never acknowledged; the server keeps serving; freeing space is enough
/// for the next message to be stored.
/// </summary>
[Collection(JournalProofsCollection.Name)]
public sealed class JournalDiskFullTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-diskfull-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [MountNamespaceFact]
    public async Task FullDiskRefusesWithoutAcknowledgingKeepsServingAndRecoversWhenSpaceIsFreed()
    {
        string mount = Path.Combine(_dir, "fs");
        Directory.CreateDirectory(mount);
        string journal = Path.Combine(mount, "talk.db");
        string script = $"mount -t tmpfs -o size=4m tcptalk-full '{mount}' && exec dotnet '{Tcptalk.Dll}' serve --listen 127.0.0.1:0 --journal '{journal}' --ack";
        await using var server = await Tcptalk.ListeningAsync(RunningProcess.Start("unshare", ["-m", "--propagation", "private", "sh", "-c", script]));
        string disk = $"/proc/{server.Process.Id}/root{mount}"; // the tmpfs, seen through the server's mount namespace
        // The journal is opened right after the listeners are bound (a serve that cannot listen creates none).
        await server.Process.WaitForLineAsync(l => l.Contains($"Journal {journal} opened", StringComparison.Ordinal), stderr: true);
        Assert.True(File.Exists(Path.Combine(disk, "talk.db")) && !File.Exists(journal), "the journal is not on the server's private tmpfs");
        string fullSentence = $"messages not stored: journal {journal} could not store the messages: the disk is full";

        // 1. Leave 256 KiB free, then send acknowledged messages one at a time until one cannot be stored.
        string filler = Path.Combine(disk, "filler");
        Fill(filler, headroom: 256 * 1024);
        var acked = new Dictionary<long, string>();
        string? refused = null;
        using (var client = await AckClient.ConnectAsync(server.Loopback))
        {
            for (int i = 1; refused is null; i++)
            {
                Assert.True(i <= 1000, "1000 messages of 1 KiB were stored with 256 KiB free: the disk never filled");
                string text = $"full-{i}-" + new string('x', 1000);
                var reply = await client.SendAsync(text);
                if (reply.AckId is long id)
                {
                    acked.Add(id, text);
                }
                else
                {
                    refused = text;
                    Assert.Equal("error: " + fullSentence, reply.Frame);
                }
            }

            Assert.Equal("", await client.ReadToEndAsync()); // and the server closes that connection
        }

        Assert.NotEmpty(acked);
        int ackedBeforeFull = acked.Count;

        // 2. Fill the rest. Another client is still served: greeted, then refused with the same sentence, nothing
        // printed. Its message is bigger than anything the failed commit left in the WAL, so it needs new pages.
        string filler2 = Path.Combine(disk, "filler-2");
        Fill(filler2, headroom: 0);
        string big = "while-full-" + new string('y', 50_000);
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", big]);
        Assert.Equal(8, code);
        Assert.Equal(["Welcome 127.0.0.1!"], stdout);
        Assert.Equal(["tcptalk: server refused: " + fullSentence], stderr);
        Assert.False(server.Process.HasExited);

        // 3. Free the space: the very next message is stored and acknowledged, no restart needed.
        File.Delete(filler);
        File.Delete(filler2);
        var recovery = Stopwatch.StartNew();
        using (var client = await AckClient.ConnectAsync(server.Loopback))
        {
            var reply = await client.SendAsync("stored-after-recovery");
            recovery.Stop();
            Assert.True(reply.AckId is not null, $"no ack after the space was freed: {reply.Frame}");
            acked.Add(reply.AckId.Value, "stored-after-recovery");
        }

        (code, _, stderr) = await Tcptalk.RunAsync(["send", "--ack", "-v", $"127.0.0.1:{server.Port}", "acked-after-recovery"]);
        Assert.True(code == 0, string.Join(" | ", stderr));
        string ackLine = Assert.Single(stderr, l => l.StartsWith("acknowledged as id ", StringComparison.Ordinal));
        acked.Add(long.Parse(ackLine["acknowledged as id ".Length..], System.Globalization.CultureInfo.InvariantCulture), "acked-after-recovery");
        (code, _, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "printed-after-recovery"]);
        Assert.True(code == 0, string.Join(" | ", stderr));
        await server.Process.WaitForLineAsync(l => l.EndsWith(" printed-after-recovery", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Process.Stdout, l => l.Contains("while-full-", StringComparison.Ordinal) || l.EndsWith(" " + refused, StringComparison.Ordinal));

        // 4. The journal (a copy taken while the server is idle): every acknowledged message under its id, the refused
        // ones absent, the file sound.
        string copy = Path.Combine(_dir, "copy.db");
        JournalFile.CopyIdle(Path.Combine(disk, "talk.db"), copy);
        var stored = (await JournalFile.ReadAsync(copy)).ToDictionary(r => r.Id, r => r.Text);
        var lost = acked.Where(a => !stored.TryGetValue(a.Key, out string? text) || text != a.Value).Select(a => a.Key).ToList();
        Assert.Empty(lost);
        Assert.DoesNotContain(refused, stored.Values);
        Assert.DoesNotContain(big, stored.Values);
        Assert.Contains("printed-after-recovery", stored.Values);
        Assert.Equal("ok", JournalFile.IntegrityCheck(copy));

        Assert.Equal(0, await server.StopAsync());
        int failedCommits = server.Process.Stderr.Count(l => l.Contains("TcpTalk.Journal[110]", StringComparison.Ordinal));
        Assert.Contains(server.Process.Stderr, l => l.Contains("TcpTalk.Journal[111]", StringComparison.Ordinal) && l.Contains("writable again", StringComparison.Ordinal));
        output.WriteLine($"disk full after {ackedBeforeFull} acknowledged 1 KiB messages; failed commits {failedCommits}; acked-but-lost {lost.Count}; " +
                         $"stored {stored.Count}; recovery (space freed to first ack) {recovery.Elapsed.TotalMilliseconds:0} ms");
    }

    /// <summary>Writes zeros to a new file until the file system is full, then gives <paramref name="headroom"/> bytes back.</summary>
    internal static void Fill(string path, long headroom)
    {
        using SafeFileHandle file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
        byte[] chunk = new byte[64 * 1024];
        try
        {
            for (long offset = 0; offset < 64L << 20; offset += chunk.Length)
            {
                RandomAccess.Write(file, chunk, offset);
            }

            Assert.Fail($"wrote 64 MiB to {path} without filling its 4 MiB tmpfs");
        }
        catch (IOException)
        {
            // ENOSPC: full.
        }

        RandomAccess.SetLength(file, Math.Max(0, RandomAccess.GetLength(file) - headroom));
    }
}
