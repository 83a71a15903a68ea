using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// <c>tcptalk bench</c> as a real process against a real <c>tcptalk serve</c>: what its <c>--json</c> says it did is
/// what the server saw, message for message, and its errors are one line with the documented exit code.
/// </summary>
public sealed class BenchTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task SessionModeWithMessagesRunsExactlyThatManySessionsAndTheServerPrintsEachMessage()
    {
        await using var server = await Tcptalk.ServeAsync();

        var result = await BenchJsonAsync(server, "--mode", "session", "--connections", "4", "--messages", "60");

        Assert.Equal("session", result.GetProperty("mode").GetString());
        Assert.Equal(60, result.GetProperty("sessions").GetInt64());
        Assert.Equal(60, result.GetProperty("messages").GetInt64());
        Assert.Equal(60 * 33, result.GetProperty("bytes").GetInt64());
        Assert.Equal(0, result.GetProperty("errors").GetProperty("total").GetInt64());
        Assert.Equal(60, result.GetProperty("latency_us").GetProperty("count").GetInt64());
        Assert.Equal(0, result.GetProperty("starved_slots").GetInt64());
        Assert.True(result.GetProperty("sessions_per_s").GetDouble() > 0);
        var ids = await MessageLinesAsync(server, " m0-", 60);
        Assert.Equal(60, ids.Count);
        Assert.Equal(60, ids.Distinct().Count()); // each session sent its own id (slot and sequence)
    }

    [Fact]
    public async Task SessionModeForADurationCountsTheMessagesTheServerPrinted()
    {
        await using var server = await Tcptalk.ServeAsync();

        var result = await BenchJsonAsync(server, "--connections", "8", "--duration", "700ms", "--message-bytes", "20");

        long messages = result.GetProperty("messages").GetInt64();
        long sessions = result.GetProperty("sessions").GetInt64();
        Assert.True(sessions > 0, "no session completed");
        Assert.Equal(sessions, messages);
        Assert.True(result.GetProperty("sessions_in_window").GetInt64() <= sessions);
        Assert.Equal(messages * 21, result.GetProperty("bytes").GetInt64());
        Assert.Equal(0.7, result.GetProperty("duration_s").GetDouble());
        Assert.Equal(messages, (await MessageLinesAsync(server, " m0-", messages)).Count);
        var latency = result.GetProperty("latency_us");
        Assert.True(latency.GetProperty("p50").GetDouble() <= latency.GetProperty("p99").GetDouble());
        Assert.True(latency.GetProperty("p99").GetDouble() <= latency.GetProperty("max").GetDouble());
    }

    [Fact]
    public async Task StreamModeWithMessagesDeliversExactlyThatManyMessagesInLineFraming()
    {
        await using var server = await Tcptalk.ServeAsync("--framing", "line");

        var result = await BenchJsonAsync(server, "--mode", "stream", "--connections", "3", "--messages", "10000", "--framing", "line");

        Assert.Equal(10000, result.GetProperty("messages").GetInt64());
        Assert.Equal(10000 * 33, result.GetProperty("bytes").GetInt64());
        Assert.Equal(3, result.GetProperty("greeted").GetInt64());
        Assert.Equal(0, result.GetProperty("errors").GetProperty("total").GetInt64());
        Assert.Equal("line", result.GetProperty("framing").GetString());
        Assert.True(result.GetProperty("messages_per_s").GetDouble() > 0);
        Assert.Equal(10000, (await MessageLinesAsync(server, " s0-", 10000)).Count);
    }

    [Fact]
    public async Task HoldModeHoldsEveryConnectionUntilTheEnd()
    {
        await using var server = await Tcptalk.ServeAsync("--verbose");

        var result = await BenchJsonAsync(server, "--mode", "hold", "--connections", "40", "--duration", "1s");

        Assert.Equal(40, result.GetProperty("greeted").GetInt64());
        Assert.Equal(0, result.GetProperty("dropped").GetInt64());
        Assert.Equal(0, result.GetProperty("errors").GetProperty("total").GetInt64());
        Assert.Equal(40, result.GetProperty("latency_us").GetProperty("count").GetInt64());
        Assert.Equal("greeting", result.GetProperty("latency_us").GetProperty("kind").GetString());
        Assert.True(result.GetProperty("elapsed_s").GetDouble() >= 1.0);
    }

    [Fact]
    public async Task HoldModeCountsConnectionsTheServerRefusesOverItsLimit()
    {
        await using var server = await Tcptalk.ServeAsync("--max-connections", "5");

        var result = await BenchJsonAsync(server, "--mode", "hold", "--connections", "12", "--duration", "1s");

        // The probe connection has closed by then, so the server holds 5 and turns the other 7 away (some servers
        // greet with an error and close, others reset): every one is counted, none is lost.
        long greeted = result.GetProperty("greeted").GetInt64();
        long dropped = result.GetProperty("dropped").GetInt64();
        long errors = result.GetProperty("errors").GetProperty("total").GetInt64();
        Assert.True(greeted - dropped >= 5, $"held {greeted - dropped}");
        Assert.Equal(12, greeted + errors);
    }

    [Fact]
    public async Task TableSummaryGoesToStdoutAndProgressLinesToStderrWhenRedirected()
    {
        await using var server = await Tcptalk.ServeAsync();

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["bench", $"127.0.0.1:{server.Port}", "--connections", "2", "--duration", "1.5s"]);

        Assert.Equal(0, code);
        Assert.Contains(stdout, l => l.Contains("sessions/s", StringComparison.Ordinal));
        Assert.Contains(stdout, l => l.Contains("p99.9", StringComparison.Ordinal));
        Assert.Contains(stdout, l => l.Contains("errors", StringComparison.Ordinal));
        Assert.All(stderr, l => Assert.StartsWith("tcptalk bench: ", l, StringComparison.Ordinal));
        Assert.Contains(stderr, l => l.Contains(" sessions, ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SessionModeOverTlsTrustsTheServerByItsCaAndCountsEveryMessage()
    {
        string dir = Directory.CreateTempSubdirectory("tcptalk-bench-tls-").FullName;
        try
        {
            Assert.Equal(0, (await Tcptalk.RunAsync(["cert", "create", "--out", dir])).Code);
            await using var server = await Tcptalk.ServeAsync("--tls-cert", Path.Combine(dir, "server.pem"), "--tls-key", Path.Combine(dir, "server.key"));

            // The certificate is for "localhost": the name given here is what TLS checks, on every load connection.
            var (code, stdout, stderr) = await Tcptalk.RunAsync(
                ["bench", $"localhost:{server.Port}", "--tls", "--tls-ca", Path.Combine(dir, "ca.pem"), "-c", "3", "-n", "12", "--json"]);

            Assert.True(code == 0, string.Join(" | ", stderr));
            using var json = JsonDocument.Parse(Assert.Single(stdout));
            Assert.True(json.RootElement.GetProperty("tls").GetBoolean());
            Assert.Equal(12, json.RootElement.GetProperty("sessions").GetInt64());
            Assert.Equal(0, json.RootElement.GetProperty("errors").GetProperty("total").GetInt64());
            Assert.Equal(12, (await MessageLinesAsync(server, " m0-", 12)).Count);

            (code, _, stderr) = await Tcptalk.RunAsync(["bench", $"localhost:{server.Port}", "--tls", "-n", "1"]);
            Assert.Equal(12, code); // self-made CA, not trusted by the system: the probe connection says so
            Assert.StartsWith("tcptalk: ", Assert.Single(stderr), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task CtrlCEndsTheRunEarlyPrintsWhatWasMeasuredAndExits130()
    {
        await using var server = await Tcptalk.ServeAsync();
        await using var bench = Tcptalk.Start(["bench", $"127.0.0.1:{server.Port}", "-c", "2", "--duration", "60s", "--json"]);
        await bench.WaitForLineAsync(l => l.Contains(" sessions, ", StringComparison.Ordinal), stderr: true);

        bench.Signal("INT");

        Assert.Equal(130, await bench.WaitForExitAsync(TimeSpan.FromSeconds(15)));
        using var json = JsonDocument.Parse(Assert.Single(bench.Stdout));
        Assert.True(json.RootElement.GetProperty("interrupted").GetBoolean());
        Assert.True(json.RootElement.GetProperty("elapsed_s").GetDouble() < 30);
        Assert.True(json.RootElement.GetProperty("sessions").GetInt64() > 0);
        Assert.Equal(0, json.RootElement.GetProperty("errors").GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task RefusedServerIsOneLineAndExitCode4()
    {
        int port = FreePort.Get();

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["bench", $"127.0.0.1:{port}", "--duration", "1s"]);

        Assert.Equal(4, code);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr);
        Assert.StartsWith("tcptalk: ", line, StringComparison.Ordinal);
        Assert.Contains("refused", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionModeCountsEveryConnectionRefusedAfterTheProbeAsRefused()
    {
        // The server greets the probe connection, then stops listening: every load connection is refused.
        await using var server = await FakeServer.StartAsync(stopListeningAfterProbe: true);

        var result = await BenchJsonAsync(server.Port, "--connections", "3", "--messages", "12");

        Assert.Equal(0, result.GetProperty("sessions").GetInt64());
        Assert.Equal(12, result.GetProperty("attempted").GetInt64());
        Assert.Equal(0, result.GetProperty("established").GetInt64());
        Assert.Equal(12, result.GetProperty("errors").GetProperty("refused").GetInt64());
        Assert.Equal(12, result.GetProperty("errors").GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task SessionModeCountsOverlongGreetingsAsBadGreetingAndCloseBeforeTheGreetingAsClosed()
    {
        // After the probe, the server alternates: 2000 bytes with no terminator, then a close with no greeting at all.
        await using var server = await FakeServer.StartAsync(stopListeningAfterProbe: false);

        var result = await BenchJsonAsync(server.Port, "--connections", "2", "--messages", "10");

        var errors = result.GetProperty("errors");
        Assert.Equal(0, result.GetProperty("sessions").GetInt64());
        Assert.Equal(10, result.GetProperty("established").GetInt64());
        Assert.Equal(0, result.GetProperty("greeted").GetInt64());
        Assert.Equal(5, errors.GetProperty("bad_greeting").GetInt64());
        Assert.Equal(5, errors.GetProperty("closed").GetInt64());
        Assert.Equal(10, errors.GetProperty("total").GetInt64());
    }

    [Theory]
    [InlineData("--bogus", "--bogus")]
    [InlineData("--mode fast", "--mode must be session, stream or hold, not 'fast'")]
    [InlineData("--connections 0", "--connections must be between 1 and 1000000, not 0")]
    [InlineData("--message-bytes 8", "--message-bytes must be between 16 and 65536, not 8")]
    [InlineData("--duration 0", "--duration must be more than 0")]
    [InlineData("--mode hold --messages 5", "--messages is for session and stream mode; hold mode runs for --duration")]
    [InlineData("--tls-pin abc", "--tls-pin needs --tls")]
    public async Task BadOptionsAreOneLineAndExitCode2(string options, string expected)
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["bench", "127.0.0.1:1", .. options.Split(' ')]);

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr);
        Assert.StartsWith("tcptalk: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelpShowsEachDefaultAsTheFlagTakesIt()
    {
        var (code, stdout, _) = await Tcptalk.RunAsync(["bench", "--help"]);

        Assert.Equal(0, code);
        Assert.Contains("[default: session]", OptionLine(stdout, "--mode"), StringComparison.Ordinal);
        Assert.Contains("[default: 10s]", OptionLine(stdout, "--timeout"), StringComparison.Ordinal);
        Assert.Contains("[default: 10s, none with --messages]", OptionLine(stdout, "--duration"), StringComparison.Ordinal);
        Assert.Contains("[default: 64]", OptionLine(stdout, "--connections"), StringComparison.Ordinal);
        Assert.Contains("[default: 32]", OptionLine(stdout, "--message-bytes"), StringComparison.Ordinal);
        Assert.DoesNotContain(stdout, l => l.Contains("00:00:", StringComparison.Ordinal) || l.Contains("[default: Session]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ModeCompletesToTheSpellingsTheFlagTakes()
    {
        string line = "tcptalk bench localhost --mode ";
        var (code, stdout, _) = await Tcptalk.RunAsync([$"[suggest:{line.Length}]", line]);

        Assert.Equal(0, code);
        Assert.Equal(["hold", "session", "stream"], stdout.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task OnATerminalTheLiveLineIsRedrawnAtMostFourTimesASecondAndErasedBeforeTheSummary()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/usr/bin/script"))
        {
            throw new PlatformNotSupportedException("needs script(1) from util-linux for a pseudo-terminal");
        }

        await using var server = await Tcptalk.ServeAsync();

        // script(1) gives tcptalk a pseudo-terminal on stdin, stdout and stderr, and copies what it writes to our stdout.
        string command = $"dotnet '{Tcptalk.Dll}' bench 127.0.0.1:{server.Port} --connections 2 --duration 2s";
        await using var terminal = RunningProcess.Start("/usr/bin/script", ["-qfec", command, "/dev/null"]);
        int code = await terminal.WaitForExitAsync(TimeSpan.FromSeconds(60));
        var stdout = terminal.Stdout;

        Assert.Equal(0, code);
        // Each redraw is carriage return, erase line, the status; the line reader splits at the carriage return.
        string screen = string.Join("\n", stdout);
        int redraws = stdout.Count(l => l.StartsWith("\u001b[2K", StringComparison.Ordinal));
        Assert.InRange(redraws, 3, 2 * 4 + 3); // 4 a second over 2 s (plus the run's wind-down), and one erase at the end
        Assert.Contains(" sessions, ", screen, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\u001b\[\d*A", screen); // one row redrawn in place: the cursor never moves up
        int erased = screen.LastIndexOf("\u001b[2K", StringComparison.Ordinal);
        Assert.True(erased < screen.IndexOf("sessions/s", StringComparison.Ordinal), "the live line is erased before the summary table");
    }

    /// <summary>The help line of <paramref name="option"/>.</summary>
    private static string OptionLine(IReadOnlyList<string> help, string option) =>
        Assert.Single(help, l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^\s+(-\w, )?{option} "));

    private static Task<JsonElement> BenchJsonAsync(ServeProcess server, params string[] options) => BenchJsonAsync(server.Port, options);

    private static async Task<JsonElement> BenchJsonAsync(int port, params string[] options)
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["bench", $"127.0.0.1:{port}", "--json", .. options], timeout: TimeSpan.FromSeconds(60));
        Assert.True(code == 0, $"exit {code}: {string.Join(" | ", stderr)}");
        using var json = JsonDocument.Parse(Assert.Single(stdout));
        return json.RootElement.Clone();
    }

    /// <summary>The message texts of the server's stdout lines that contain <paramref name="marker"/>, once there are <paramref name="expected"/> (or after a while).</summary>
    private static async Task<List<string>> MessageLinesAsync(ServeProcess server, string marker, long expected)
    {
        var deadline = DateTime.UtcNow + Soon;
        while (true)
        {
            var lines = server.Process.Stdout.Where(l => l.Contains(marker, StringComparison.Ordinal)).ToList();
            if (lines.Count >= expected || DateTime.UtcNow > deadline)
            {
                return lines.Select(l => l[(l.IndexOf(marker, StringComparison.Ordinal) + 1)..]).ToList();
            }

            await Task.Delay(50);
        }
    }

    /// <summary>
    /// A misbehaving server: it greets the first connection (bench's probe) properly and closes it after the client's
    /// half-close; then it either stops listening or answers the connections that follow with a greeting too long (odd
    /// ones) or a close before any greeting (even ones).
    /// </summary>
    private sealed class FakeServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new(TimeSpan.FromSeconds(60));
        private Task _accepting = Task.CompletedTask;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public static Task<FakeServer> StartAsync(bool stopListeningAfterProbe)
        {
            var server = new FakeServer();
            server._listener.Start();
            server._accepting = server.AcceptAsync(stopListeningAfterProbe);
            return Task.FromResult(server);
        }

        private async Task AcceptAsync(bool stopListeningAfterProbe)
        {
            try
            {
                using (var probe = await _listener.AcceptSocketAsync(_stop.Token))
                {
                    await probe.SendAsync("Welcome 127.0.0.1!\0"u8.ToArray(), _stop.Token);
                    if (stopListeningAfterProbe)
                    {
                        _listener.Stop();
                    }

                    var buffer = new byte[256];
                    while (await probe.ReceiveAsync(buffer, _stop.Token) > 0)
                    {
                    }
                }

                for (int n = 1; !stopListeningAfterProbe; n++)
                {
                    using var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    if (n % 2 == 1)
                    {
                        await socket.SendAsync(Enumerable.Repeat((byte)'a', 2000).ToArray(), _stop.Token);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }
    }
}
