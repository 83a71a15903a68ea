using System.Globalization;
using System.Net;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// /readyz of <c>serve --admin-listen</c> while its journal cannot store anything: strace makes every <c>fsync</c> of
/// the server fail with EIO (the journal's commits and its recovery probes alike), so /readyz says 503 until strace
/// detaches, and then turns 200 by itself.
/// </summary>
[Collection(JournalProofsCollection.Name)]
public sealed class AdminJournalReadinessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-readyz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [PtraceFact]
    public async Task ReadyzSaysTheJournalIsNotWritableWhileItsCommitsFailAndReadyOnceTheyWork()
    {
        string journal = Path.Combine(_dir, "talk.db");
        await using var server = await Tcptalk.ServeAsync("--journal", journal, "--ack", "--admin-listen", "127.0.0.1:0");
        var admin = await AdminEndpointTests.AdminUrlAsync(server.Process);
        await AdminEndpointTests.ReadyWithinAsync(admin, TimeSpan.FromSeconds(10)); // once the start is complete

        await using (var strace = RunningProcess.Start("strace",
            ["-f", "-p", server.Process.Id.ToString(CultureInfo.InvariantCulture), "-o", "/dev/null", "-e", "trace=fsync", "-e", "inject=fsync:error=EIO"]))
        {
            await strace.WaitForLineAsync(l => l.Contains("attached", StringComparison.Ordinal), stderr: true);
            await Task.Delay(200); // strace sets up each thread at its next stop, just after that line
            using (var client = await AckClient.ConnectAsync(server.Loopback))
            {
                var reply = await client.SendAsync("cannot be stored");
                Assert.Null(reply.AckId);
            }

            Assert.Equal((HttpStatusCode.ServiceUnavailable, "journal is not writable\n"), await AdminEndpointTests.GetAsync(admin, "/readyz"));
            await Task.Delay(1500); // a recovery probe (every second) fails too: still not ready
            Assert.Equal((HttpStatusCode.ServiceUnavailable, "journal is not writable\n"), await AdminEndpointTests.GetAsync(admin, "/readyz"));
            Assert.Equal((HttpStatusCode.OK, "ok\n"), await AdminEndpointTests.GetAsync(admin, "/healthz"));
            strace.Signal("INT"); // strace detaches; the server runs on
            await strace.WaitForExitAsync(TimeSpan.FromSeconds(10));
        }

        await AdminEndpointTests.ReadyWithinAsync(admin, TimeSpan.FromSeconds(30));
        Assert.Equal(0, await server.StopAsync());
    }
}
