using System.Net;
using System.Net.Sockets;
using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary><c>tcptalk send</c> as a user runs it: the greeting on stdout, and for every failure one line and its exit code.</summary>
public class SendTests
{
    [Fact]
    public async Task SendPrintsGreetingAndTheServerPrintsEveryMessage()
    {
        await using var server = await Tcptalk.ServeAsync();
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"localhost:{server.Port}", "one", "two words"]);

        Assert.Equal(0, code);
        Assert.Equal(["Welcome 127.0.0.1!"], stdout);
        Assert.Empty(stderr);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" two words", StringComparison.Ordinal));
        Assert.Equal(["one", "two words"], server.Process.Stdout.Select(l => l.Split(' ', 3)[2]));
    }

    [Fact]
    public async Task StdinLinesAreMessagesInLineFramingOverIpv6()
    {
        await using var server = await Tcptalk.ServeAsync("--listen", "[::1]:0", "--framing", "line");
        var (code, stdout, _) = await Tcptalk.RunAsync(["send", $"[::1]:{server.Port}", "--framing", "line"], stdin: "first\r\nsecond\n");

        Assert.Equal(0, code);
        Assert.Equal(["Welcome ::1!"], stdout);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" second", StringComparison.Ordinal));
        Assert.Equal(["first", "second"], server.Process.Stdout.Select(l => l.Split(' ', 3)[2]));
    }

    [Fact]
    public async Task VerbosePrintsEachAttemptAndItsOutcome()
    {
        await using var server = await Tcptalk.ServeAsync();
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "-v", $"127.0.0.1:{server.Port}", "x"]);

        Assert.Equal(0, code);
        Assert.Contains($"connecting to 127.0.0.1:{server.Port}", stderr);
        Assert.Contains(stderr, l => l.StartsWith($"  127.0.0.1:{server.Port}: connected after ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EncodingGbkSendsGbkBytes()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var received = ReceiveOneAsync(listener, "Welcome\0"u8.ToArray());

        var (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{port}", "--encoding", "gbk", "你好"]);

        Assert.Equal(0, code);
        Assert.Equal(new byte[] { 0xC4, 0xE3, 0xBA, 0xC3, 0x00 }, await received);
    }

    [Fact]
    public async Task UsageErrorsExitWith2()
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "localhost:99999", "x"]);
        Assert.Equal(2, code);
        Assert.Equal(["tcptalk: '99999' is not a port number (0-65535)"], stderr);

        (code, _, stderr) = await Tcptalk.RunAsync(["send", "localhost", "--no-such-option"]);
        Assert.Equal(2, code);
        Assert.Equal(["tcptalk: unknown option '--no-such-option' (to send a message that starts with '-', put it after --; tcptalk send --help)"], stderr);
    }

    [Fact]
    public async Task MessageStartingWithDashIsSentAfterDoubleDash()
    {
        await using var server = await Tcptalk.ServeAsync();
        var (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "--", "-5 degrees"]);
        Assert.Equal(0, code);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" -5 degrees", StringComparison.Ordinal));
    }

    [Fact]
    public async Task MessageWithTheTerminatorIsRefusedBeforeConnecting()
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--framing", "line", "127.0.0.1:9", "ok", "two\nlines"]);
        Assert.Equal(2, code);
        Assert.Equal(["tcptalk: message 2: message contains a line feed, which line framing cannot carry"], stderr);
    }

    [Fact]
    public async Task UnknownHostExitsWith3()
    {
        // Resolution must fail without real DNS: run inside a network namespace of our own whose resolver points
        // at its own loopback, where nothing answers.
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return; // needs unshare (root); covered by the client library tests with an injected resolver
        }

        string resolv = Path.Combine(Path.GetTempPath(), $"tcptalk-resolv-{Guid.NewGuid():N}.conf");
        await File.WriteAllTextAsync(resolv, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
        try
        {
            string script = $"ip link set lo up; mount --bind {resolv} /etc/resolv.conf && exec dotnet {Tcptalk.Dll} send no-such-host.invalid hello";
            await using var process = RunningProcess.Start("unshare", ["-m", "-n", "sh", "-c", script], stdinText: "");
            int code = await process.WaitForExitAsync();
            Assert.Equal(3, code);
            Assert.Equal(["tcptalk: host 'no-such-host.invalid' not found"], process.Stderr);
        }
        finally
        {
            File.Delete(resolv);
        }
    }

    [Fact]
    public async Task RefusedExitsWith4()
    {
        int port = FreePort.Get();
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{port}", "x"]);
        Assert.Equal(4, code);
        Assert.Empty(stdout);
        Assert.Equal([$"tcptalk: connection refused by 127.0.0.1:{port} (nothing listening on that port?)"], stderr);
    }

    [Fact]
    public async Task NoAnswerToConnectExitsWith5()
    {
        // A loopback black hole: a listener with a full accept queue that never accepts drops further SYNs.
        using var hole = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        hole.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        hole.Listen(0);
        var endpoint = (IPEndPoint)hole.LocalEndPoint!;
        using var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await filler.ConnectAsync(endpoint);

        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--connect-timeout", "500ms", $"127.0.0.1:{endpoint.Port}", "x"]);
        Assert.Equal(5, code);
        Assert.Equal([$"tcptalk: no answer from 127.0.0.1:{endpoint.Port} within 500ms"], stderr);
    }

    [Fact]
    public async Task NoGreetingExitsWith5()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--timeout", "300ms", $"127.0.0.1:{port}", "x"]);
        Assert.Equal(5, code);
        Assert.Equal([$"tcptalk: connected to 127.0.0.1:{port} but no greeting arrived within 300ms (a TLS server waits for the client to start TLS: if it is one, add --tls)"], stderr);
    }

    [Fact]
    public async Task ServerClosingWithoutGreetingExitsWith6()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptSocketAsync();
            client.Shutdown(SocketShutdown.Send);
            await Task.Delay(500);
        });

        var (code, _, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{port}", "x"]);
        await server;
        Assert.Equal(6, code);
        Assert.Equal([$"tcptalk: protocol error: 127.0.0.1:{port} closed the connection without sending a greeting (a TLS server waits for the client to start TLS: if it is one, add --tls)"], stderr);
    }

    [Fact]
    public async Task GreetingOverTheLimitExitsWith6()
    {
        await using var server = await Tcptalk.ServeAsync();
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--max-message-bytes", "8", $"127.0.0.1:{server.Port}", "x"]);
        Assert.Equal(6, code);
        Assert.Equal([$"tcptalk: protocol error: greeting from 127.0.0.1:{server.Port} is longer than 8 bytes (the limit); is this a TcpTalk server with nul framing?"], stderr);
    }

    [Fact]
    public async Task ResetByServerExitsWith7()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptSocketAsync();
            await client.SendAsync("Welcome\0"u8.ToArray());
            var buffer = new byte[1];
            await client.ReceiveAsync(buffer); // leave the rest unread, then reset
            client.LingerState = new LingerOption(true, 0);
            client.Close();
        });

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{port}", "hello", "world"]);
        await server;
        Assert.Equal(7, code);
        Assert.Equal(["Welcome"], stdout);
        var line = Assert.Single(stderr);
        Assert.StartsWith("tcptalk: server reset the connection", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerErrorLineExitsWith8()
    {
        await using var server = await Tcptalk.ServeAsync("--max-message-bytes", "4");
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "far too long"]);
        Assert.Equal(8, code);
        Assert.Equal(["Welcome 127.0.0.1!"], stdout);
        Assert.Equal(["tcptalk: server refused: message longer than 4 bytes (the limit); it starts \"far t\""], stderr);
    }

    [Theory]
    [InlineData("--connect-timeout", "0")]
    [InlineData("--timeout", "0s")]
    [InlineData("--ack-timeout", "0ms")]
    public async Task AZeroTimeoutIsAUsageErrorInTheFlagsOwnWords(string flag, string value)
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", flag, value, "127.0.0.1:9", "x"]);
        Assert.Equal(2, code);
        var line = Assert.Single(stderr);
        Assert.StartsWith($"tcptalk: {flag} must be positive, not {value}", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortZeroIsAUsageErrorNotAConnection()
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "localhost:0", "x"]);
        Assert.Equal(2, code);
        Assert.Equal(["tcptalk: port 0 cannot be connected to ('localhost:0'): give a port from 1 to 65535, or none for 12345"], stderr);
    }

    [Theory]
    [InlineData("--tls-ca", "ca.pem")]
    [InlineData("--tls-pin", "AB")]
    [InlineData("--tls-cert", "client.pem")]
    [InlineData("--tls-key", "client.key")]
    [InlineData("--tls-insecure", null)]
    public async Task ATlsFlagWithoutTlsIsAUsageErrorNamingTls(string flag, string? value)
    {
        string[] given = value is null ? [flag] : [flag, value];
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", "127.0.0.1:9", .. given, "x"]);
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Equal([$"tcptalk: {flag} needs --tls"], stderr);
    }

    [Fact]
    public async Task AckFromAServerThatDoesNotAcknowledgeSaysTheServerClosed()
    {
        await using var server = await Tcptalk.ServeAsync();
        var took = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--ack", $"127.0.0.1:{server.Port}", "a"]);

        Assert.Equal(9, code);
        Assert.True(took.Elapsed < TimeSpan.FromSeconds(9), $"took {took.Elapsed}: it waited for the ack timeout");
        Assert.Equal(["tcptalk: server closed the connection without acknowledging 1 of 1 message(s) (does it acknowledge? tcptalk serve does with --ack); they may not be stored"], stderr);
    }

    [Fact]
    public async Task PlainSendToATlsServerSuggestsTls()
    {
        string dir = Directory.CreateTempSubdirectory("tcptalk-send-tls-").FullName;
        try
        {
            Assert.Equal(0, (await Tcptalk.RunAsync(["cert", "create", "--out", dir])).Code);
            await using var server = await Tcptalk.ServeAsync("--tls-cert", Path.Combine(dir, "server.pem"), "--tls-key", Path.Combine(dir, "server.key"));

            // A TLS server says nothing until the client starts TLS: the greeting wait ends, with the hint.
            var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--timeout", "500ms", $"127.0.0.1:{server.Port}", "x"]);
            Assert.Equal(5, code);
            Assert.Equal([$"tcptalk: connected to 127.0.0.1:{server.Port} but no greeting arrived within 500ms (a TLS server waits for the client to start TLS: if it is one, add --tls)"], stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ATlsAlertWhereTheGreetingShouldBeFailsAtOnceWithExit12()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptSocketAsync(stop.Token);
            await client.SendAsync(new byte[] { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x32 }); // alert: decode_error; then silence
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        });

        var took = System.Diagnostics.Stopwatch.StartNew();
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{port}", "x"]);
        await stop.CancelAsync();
        await server;

        Assert.Equal(12, code);
        Assert.True(took.Elapsed < TimeSpan.FromSeconds(9), $"took {took.Elapsed}: it waited for the greeting timeout");
        Assert.Empty(stdout);
        Assert.Equal([$"tcptalk: 127.0.0.1:{port} is a TLS server: it answered in TLS where the greeting should be; add --tls"], stderr);
    }

    private static async Task<byte[]> ReceiveOneAsync(TcpListener listener, byte[] greeting)
    {
        using var client = await listener.AcceptSocketAsync();
        await client.SendAsync(greeting);
        return await client.ReadToEndAsync();
    }
}
