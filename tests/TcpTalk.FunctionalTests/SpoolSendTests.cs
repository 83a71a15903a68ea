using System.Text.RegularExpressions;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary><c>tcptalk send --spool DIR</c> against the real <c>tcptalk serve --ack</c>, both real processes, over loopback.</summary>
[Collection(JournalProofsCollection.Name)]
public sealed partial class SpoolSendTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-spool-send-").FullName;

    private string Spool => Path.Combine(_dir, "spool");

    private string Db => Path.Combine(_dir, "serve.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Task<ServeProcess> ServeAsync(int port, params string[] more) =>
        Tcptalk.ServeAsync(["--listen", $"127.0.0.1:{port}", "--journal", Db, "--ack", .. more]);

    private RunningProcess Send(int port, string? stdin, params string[] more) =>
        Tcptalk.Start(["send", "--spool", Spool, "-v", "--retry-max-delay", "300ms", .. more, $"127.0.0.1:{port}"], stdin);

    private static string Lines(int from, int count) => string.Concat(Enumerable.Range(from, count).Select(i => $"line {i}\n"));

    private static IEnumerable<string> Expected(int from, int count) => Enumerable.Range(from, count).Select(i => $"line {i}");

    private async Task<Dictionary<string, string>> StatusAsync()
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", "--spool", Spool, "--status"]);
        Assert.True(code == 0, $"--status exited {code}: {string.Join(" | ", stderr)}");
        return stdout.Select(l => l.Split(": ", 2)).ToDictionary(p => p[0], p => p[1]);
    }

    [Fact]
    public async Task AServerDownAtStartGetsEverythingOnceItIsStarted()
    {
        int port = FreePort.Get();
        await using var send = Send(port, Lines(1, 20));
        await send.WaitForLineAsync(l => l.StartsWith("retry in ", StringComparison.Ordinal), stderr: true);
        await using var server = await ServeAsync(port);

        Assert.Equal(0, await send.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await server.StopAsync());
        Assert.Equal(Expected(1, 20), (await JournalFile.ReadAsync(Db)).Select(r => r.Text));
        Assert.Empty(send.Stdout); // no greeting on stdout: a shipper's output stays clean
        Assert.Contains(send.Stderr, l => RetryLine().IsMatch(l));
        Assert.Contains(send.Stderr, l => l.StartsWith("connected: ", StringComparison.Ordinal) && l.Contains(" after an outage of ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AServerKilledMidStreamAndRestartedHasEveryLineAtLeastOnce()
    {
        int port = FreePort.Get();
        var server = await ServeAsync(port);
        await using var send = Send(port, stdin: null);
        await send.Stdin.WriteAsync(Lines(1, 100));
        await send.Stdin.FlushAsync();
        await server.Process.WaitForLineAsync(l => l.EndsWith(" line 50", StringComparison.Ordinal), timeout: TimeSpan.FromSeconds(30));
        server.Process.Signal("KILL");
        Assert.Equal(137, await server.Process.WaitForExitAsync());
        await server.DisposeAsync();

        await send.Stdin.WriteAsync(Lines(101, 100)); // spooled while the server is down
        await send.Stdin.FlushAsync();
        await using var restarted = await ServeAsync(port);
        send.Stdin.Close();

        Assert.Equal(0, await send.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await restarted.StopAsync());
        var stored = (await JournalFile.ReadAsync(Db)).Select(r => r.Text).ToHashSet();
        Assert.Equal([], Expected(1, 200).Where(t => !stored.Contains(t)));
    }

    [Fact]
    public async Task ASenderKilledAndRestartedOnTheSameSpoolDeliversWhatItHadAccepted()
    {
        int port = FreePort.Get();
        await using (var first = Send(port, stdin: null))
        {
            await first.Stdin.WriteAsync(Lines(1, 30));
            await first.Stdin.FlushAsync();
            await first.WaitForLineAsync(l => l.StartsWith("retry in ", StringComparison.Ordinal) && l.EndsWith("backlog 30 message(s), 201 bytes", StringComparison.Ordinal), stderr: true);
            first.Signal("KILL");
            Assert.Equal(137, await first.WaitForExitAsync());
        }

        Assert.Equal("30", (await StatusAsync())["accepted"]);
        await using var server = await ServeAsync(port);
        await using var second = Send(port, Lines(31, 5));
        Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(second.Stderr, l => l == $"spool {Spool}: 30 message(s), 201 bytes left from before; they are sent first");
        Assert.Equal(0, await server.StopAsync());
        Assert.Equal(Expected(1, 35), (await JournalFile.ReadAsync(Db)).Select(r => r.Text));
    }

    [Fact]
    public async Task ASecondSenderOnTheSameSpoolFailsAtOnce()
    {
        int port = FreePort.Get();
        await using var first = Send(port, stdin: null);
        await first.WaitForLineAsync(l => l.StartsWith($"spool {Spool}: ", StringComparison.Ordinal), stderr: true);

        var started = DateTime.UtcNow;
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", "--spool", Spool, $"127.0.0.1:{port}", "x"]);
        Assert.Equal(13, code);
        Assert.Equal([$"tcptalk: spool {Spool} is in use by process {first.Id} (one sender per spool directory)"], stderr);
        Assert.Empty(stdout);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), "it waited for the lock");
    }

    [Fact]
    public async Task StatusPrintsTheBacklogAndRetryForGivesUpWithTheLastFailuresExitCode()
    {
        int port = FreePort.Get();
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--spool", Spool, "--retry-for", "1s", $"127.0.0.1:{port}"], "ab\ncd\n");
        Assert.Equal(4, code); // connect failed, as without --spool
        Assert.Equal([$"tcptalk: connection refused by 127.0.0.1:{port} (nothing listening on that port?)"], stderr);

        var status = await StatusAsync();
        Assert.Equal(["spool", "messages", "bytes", "oldest", "accepted"], status.Keys);
        Assert.Equal((Spool, "2", "4", "2"), (status["spool"], status["messages"], status["bytes"], status["accepted"]));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(\S+ ago\)$", status["oldest"]);
    }

    [Fact]
    public async Task StatusOfADirectoryWithoutASpoolSaysSo()
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", "--spool", Spool, "--status"]);
        Assert.Equal(13, code);
        Assert.Equal([$"tcptalk: no spool in {Spool} (no spool.db): nothing was ever spooled there"], stderr);
        Assert.Empty(stdout);
    }

    [Fact]
    public async Task AFullSpoolPausesReadingAndNothingIsDropped()
    {
        int port = FreePort.Get();
        await using var send = Send(port, Lines(1, 40), "--spool-max-bytes", "100"); // 40 lines of 6-7 bytes: 269 bytes
        await send.WaitForLineAsync(l => l.StartsWith("retry in ", StringComparison.Ordinal), stderr: true);
        await Task.Delay(1000);
        var status = await StatusAsync();
        Assert.InRange(long.Parse(status["bytes"], System.Globalization.CultureInfo.InvariantCulture), 1, 100);
        Assert.InRange(long.Parse(status["accepted"], System.Globalization.CultureInfo.InvariantCulture), 1, 20);
        Assert.False(send.HasExited);

        await using var server = await ServeAsync(port);
        Assert.Equal(0, await send.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await server.StopAsync());
        Assert.Equal(Expected(1, 40), (await JournalFile.ReadAsync(Db)).Select(r => r.Text));
    }

    [Fact]
    public async Task AMessageTheServerRefusesAsTooLongStopsAtOnceWithTodaysExitCode()
    {
        int port = FreePort.Get();
        await using var server = await ServeAsync(port, "--max-message-bytes", "10");
        var started = DateTime.UtcNow;
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--spool", Spool, $"127.0.0.1:{port}", "longer than ten bytes"]);
        Assert.Equal(8, code);
        Assert.Single(stderr);
        Assert.StartsWith("tcptalk: server refused: message longer than 10 bytes (the limit)", stderr[0]);
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(15), "it retried");
        Assert.Equal("1", (await StatusAsync())["messages"]); // kept: nothing given to send is dropped
    }

    [Fact]
    public async Task AStdinLineLongerThanTheLimitStopsAtTheLimitWithoutWaitingForItsEndAndKeepsWhatCameBefore()
    {
        int port = FreePort.Get(); // no server: the first lines stay in the spool
        await using var send = Send(port, stdin: null);
        await send.Stdin.WriteAsync(Lines(1, 3));
        await send.Stdin.FlushAsync();
        var endless = Task.Run(async () =>
        {
            try
            {
                var chunk = new string('x', 64 * 1024);
                for (int i = 0; i < 64; i++) // 4 MiB, no newline, and stdin is left open: the line has no end
                {
                    await send.Stdin.WriteAsync(chunk);
                }

                await send.Stdin.FlushAsync();
            }
            catch (IOException)
            {
                // the sender stopped reading and exited: the pipe is broken
            }
        });

        Assert.Equal(2, await send.WaitForExitAsync(TimeSpan.FromSeconds(30))); // a usage error, as send without --spool
        await endless;
        var refusals = send.Stderr.Where(l => l.StartsWith("tcptalk: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(["tcptalk: stdin line 4: message is longer than the limit of 65536 bytes (reading stopped after 65536 characters of it); the 3 line(s) before it are spooled"],
            refusals.Select(l => Regex.Replace(l, @"after \d+ characters", "after 65536 characters")));
        Assert.DoesNotContain(send.Stderr, l => l.Contains("   at ", StringComparison.Ordinal)); // no stack trace
        var status = await StatusAsync();
        Assert.Equal(("3", "3"), (status["messages"], status["accepted"]));
    }

    [TerminalFact]
    public async Task ADrainOnATerminalShowsItsProgressAndErasesItAtTheEnd()
    {
        int port = FreePort.Get();
        await using var terminal = Terminal.StartTcptalk("send", "--spool", Spool, $"127.0.0.1:{port}", "one", "two", "three");
        await terminal.WaitForAsync("]   0%  draining: 0 of 3 delivered, backlog 3 message(s)"); // cut to the 80 columns of the pty
        await using var server = await ServeAsync(port);
        Assert.Equal(0, await terminal.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.EndsWith("\u001b[2K", terminal.Screen.TrimEnd('\n'), StringComparison.Ordinal); // the line erased
        Assert.Equal(0, await server.StopAsync());
        Assert.Equal(["one", "two", "three"], (await JournalFile.ReadAsync(Db)).Select(r => r.Text));
    }

    [Theory]
    [InlineData("--retry-for", "1s", "tcptalk: --retry-for needs --spool DIR")]
    [InlineData("--spool-max-bytes", "1M", "tcptalk: --spool-max-bytes needs --spool DIR")]
    [InlineData("--status", null, "tcptalk: --status needs --spool DIR")]
    public async Task SpoolFlagsWithoutSpoolAreAUsageError(string flag, string? value, string expected)
    {
        string[] args = value is null ? ["send", flag, "127.0.0.1:9", "x"] : ["send", flag, value, "127.0.0.1:9", "x"];
        var (code, _, stderr) = await Tcptalk.RunAsync(args);
        Assert.Equal(2, code);
        Assert.Equal([expected], stderr);
    }

    [GeneratedRegex(@"^retry in \S+ \(failure \d+ in a row: connection refused by 127\.0\.0\.1:\d+ \(nothing listening on that port\?\)\); backlog \d+ message\(s\), \d+ bytes$")]
    private static partial Regex RetryLine();
}
