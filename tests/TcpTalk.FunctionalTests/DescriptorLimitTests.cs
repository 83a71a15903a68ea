using System.Net.Sockets;
using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// The server and the process's limit of open files (<c>ulimit -n</c>): by default it refuses clients politely
/// before running out; made to run out (<c>--max-connections 0</c>), it backs off and recovers.
/// </summary>
[Collection(JournalProofsCollection.Name)] // hundreds of sockets and a server at its limits: not beside timing-sensitive tests
public class DescriptorLimitTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [NativeAotFact("the JIT runtime aborts when it runs out of file descriptors, so only the NativeAOT server can be run out of them and seen to recover")]
    public async Task OutOfDescriptorsTheNativeAotServerBacksOffWithoutSpinningAndGreetsTheWaitingClientsOnceSomeClose()
    {
        await using var server = await Tcptalk.ListeningAsync(RunningProcess.Start("sh",
            ["-c", "ulimit -n 64 && exec \"$0\" serve --listen 127.0.0.1:0 --no-journal --max-connections 0", NativeAot.Executable!]));
        var clients = new List<RawClient>();
        try
        {
            // 64 descriptors, about 15 of them the server's own: 80 clients are more than it can accept. The kernel
            // completes their handshakes anyway (the listen backlog), so they all connect and some wait.
            for (int i = 0; i < 80; i++)
            {
                clients.Add(await RawClient.ConnectAsync(server.Loopback));
            }

            var greetings = await Task.WhenAll(clients.Select(c => TryReadGreetingAsync(c, TimeSpan.FromSeconds(3))));
            var greeted = clients.Where((_, i) => greetings[i]).ToList();
            var waiting = clients.Where((_, i) => !greetings[i]).ToList();
            Assert.InRange(greeted.Count, 20, 62);
            Assert.NotEmpty(waiting);

            // Backing off, not spinning: the delay doubles from 5 ms to the 1 s cap, so a few lines a second at most.
            string first = await server.Process.WaitForLineAsync(l => l.Contains("failed (TooManyOpenSockets); retrying in", StringComparison.Ordinal), stderr: true);
            Assert.Contains($"Accept on 127.0.0.1:{server.Port} failed (TooManyOpenSockets); retrying in ", first, StringComparison.Ordinal);
            await server.Process.WaitForLineAsync(l => l.EndsWith("retrying in 1000 ms", StringComparison.Ordinal), stderr: true);
            int before = AcceptFailures(server);
            await Task.Delay(TimeSpan.FromSeconds(2));
            int during = AcceptFailures(server) - before;
            Assert.InRange(during, 1, 4); // at the cap: one line a second

            // Free descriptors: every waiting client is greeted, without a restart.
            foreach (var client in greeted.Take(waiting.Count + 5))
            {
                client.HalfClose();
                await client.ReadToEndAsync();
                client.Dispose();
            }

            foreach (var client in waiting)
            {
                Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await client.ReadFrameAsync(timeout: Soon)));
            }

            Assert.False(server.Process.HasExited);
            foreach (var client in clients)
            {
                client.Dispose();
            }

            Assert.Equal(0, await server.StopAsync());
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    [Fact]
    public async Task WithTheDefaultLimitClientsPastTheDescriptorLimitGetTheBusyLineInsteadOfExhaustingIt()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the limit comes from 'ulimit -n' in a shell; on Windows the default is a fixed 10000
        }

        // ulimit -n 512 leaves 512 - 256 (the reserve) = 256 connections by default. The JIT runtime, which aborts
        // when it runs out of descriptors, holds about 130 of its own: without the derived default it would die here.
        await using var server = await Tcptalk.ListeningAsync(RunningProcess.Start("sh",
            ["-c", "ulimit -n 512 && exec dotnet \"$0\" serve --listen 127.0.0.1:0 --no-journal", Tcptalk.Dll]));
        var clients = new List<RawClient>();
        try
        {
            for (int i = 0; i < 300; i++)
            {
                clients.Add(await RawClient.ConnectAsync(server.Loopback));
            }

            var replies = await Task.WhenAll(clients.Select(async c => Encoding.ASCII.GetString(await c.ReadFrameAsync(timeout: Soon))));
            Assert.Equal(256, replies.Count(r => r == "Welcome 127.0.0.1!"));
            Assert.Equal(44, replies.Count(r => r == "error: server busy: 256 connections open (the limit); try again later"));
            Assert.Equal(0, AcceptFailures(server));

            // The count returns: once the clients are gone, a new one is greeted.
            foreach (var client in clients)
            {
                client.Dispose();
            }

            clients.Clear();
            await Task.Delay(500);
            for (int i = 0; i < 256; i++)
            {
                clients.Add(await RawClient.ConnectAsync(server.Loopback));
            }

            var again = await Task.WhenAll(clients.Select(async c => Encoding.ASCII.GetString(await c.ReadFrameAsync(timeout: Soon))));
            Assert.All(again, r => Assert.Equal("Welcome 127.0.0.1!", r));
            Assert.False(server.Process.HasExited);
            Assert.Equal(0, await server.StopAsync());
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    private static int AcceptFailures(ServeProcess server) =>
        server.Process.Stderr.Count(l => l.Contains("Accept on", StringComparison.Ordinal) && l.Contains("failed", StringComparison.Ordinal));

    private static async Task<bool> TryReadGreetingAsync(RawClient client, TimeSpan timeout)
    {
        try
        {
            return Encoding.ASCII.GetString(await client.ReadFrameAsync(timeout: timeout)) == "Welcome 127.0.0.1!";
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
