using System.Net;
using System.Net.Sockets;
using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary><c>tcptalk serve</c> over real loopback sockets: exact bytes on the wire, exact lines on stdout.</summary>
public class ServeTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task MessageSplitIntoSingleBytesAndSeveralInOneWriteAreAllPrintedInOrder()
    {
        await using var server = await Tcptalk.ServeAsync();
        using var client = await RawClient.ConnectAsync(server.Loopback);
        Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await client.ReadFrameAsync()));

        foreach (byte b in "split\0"u8.ToArray())
        {
            await client.SendAsync([b]);
            await Task.Delay(5);
        }

        await client.SendAsync("one\0two\0\0three\0"u8.ToArray());
        client.HalfClose();
        Assert.Empty(await client.ReadToEndAsync());

        await server.Process.WaitForLineAsync(l => l.EndsWith(" three", StringComparison.Ordinal));
        var texts = server.Process.Stdout.Select(l => l.Split(' ', 3)[2]).ToArray();
        Assert.Equal(["split", "one", "two", "", "three"], texts);
    }

    [Fact]
    public async Task LineFramingDropsCrBeforeLfAndDeliversAnUnterminatedTailAtEof()
    {
        await using var server = await Tcptalk.ServeAsync("--framing", "line");
        using var client = await RawClient.ConnectAsync(server.Loopback);
        Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await client.ReadFrameAsync((byte)'\n')));

        await client.SendAsync("crlf\r\nlf\nin\rside\ntail"u8.ToArray());
        client.HalfClose();
        await client.ReadToEndAsync();

        await server.Process.WaitForLineAsync(l => l.EndsWith(" tail", StringComparison.Ordinal));
        Assert.Equal(["crlf", "lf", "in\\rside", "tail"], server.Process.Stdout.Select(l => l.Split(' ', 3)[2]));
    }

    [Fact]
    public async Task ControlCharactersAndInvalidBytesArePrintedEscaped()
    {
        await using var server = await Tcptalk.ServeAsync();
        using var client = await RawClient.ConnectAsync(server.Loopback);
        await client.ReadFrameAsync();

        await client.SendAsync([.. "\u001b[2Jred\\"u8, 0xFF, .. "\u202Eok\0"u8]);
        client.HalfClose();
        await client.ReadToEndAsync();

        string line = await server.Process.WaitForLineAsync(l => l.Contains("red", StringComparison.Ordinal));
        Assert.EndsWith(@" \x1b[2Jred\\\xff\u202eok", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MessageOverTheLimitGetsAnErrorLineAndOnlyThatClientIsClosed()
    {
        await using var server = await Tcptalk.ServeAsync("--max-message-bytes", "16");
        using var good = await RawClient.ConnectAsync(server.Loopback);
        using var bad = await RawClient.ConnectAsync(server.Loopback);
        await good.ReadFrameAsync();
        await bad.ReadFrameAsync();

        await good.SendAsync("exactly16bytes..\0"u8.ToArray());
        await bad.SendAsync(Encoding.ASCII.GetBytes(new string('x', 17) + "\0"));

        string error = Encoding.ASCII.GetString(await bad.ReadFrameAsync());
        Assert.Equal("error: message longer than 16 bytes (the limit); it starts \"xxxxxxxxxxxxxxxxx\"", error);
        Assert.Empty(await bad.ReadToEndAsync());

        await good.SendAsync("still here\0"u8.ToArray());
        good.HalfClose();
        Assert.Empty(await good.ReadToEndAsync());
        await server.Process.WaitForLineAsync(l => l.EndsWith(" still here", StringComparison.Ordinal));
        Assert.DoesNotContain(server.Process.Stdout, l => l.Contains("xxx", StringComparison.Ordinal));
        Assert.Contains(server.Process.Stdout, l => l.EndsWith(" exactly16bytes..", StringComparison.Ordinal));
        await server.Process.WaitForLineAsync(l => l.Contains("refused a message", StringComparison.Ordinal), stderr: true);
    }

    [Fact]
    public async Task DefaultListenerGreetsIpv4AndIpv6ClientsWithTheirOwnAddresses()
    {
        int port = FreePort.Get();
        await using var server = await Tcptalk.ServeAsync("--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Contains(server.Process.Stderr, l => l.Contains($"Listening on [::]:{port} (IPv6 and IPv4)", StringComparison.Ordinal));

        using var v4 = await RawClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        using var v6 = await RawClient.ConnectAsync(new IPEndPoint(IPAddress.IPv6Loopback, port));

        Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await v4.ReadFrameAsync()));
        Assert.Equal("Welcome ::1!", Encoding.ASCII.GetString(await v6.ReadFrameAsync()));
        await v6.SendAsync("from six\0"u8.ToArray());
        v6.HalfClose();
        await v6.ReadToEndAsync();
        string line = await server.Process.WaitForLineAsync(l => l.EndsWith(" from six", StringComparison.Ordinal));
        Assert.Matches(@" \[::1\]:\d+ from six$", line);
    }

    [Fact]
    public async Task GreetingTemplateAndRepeatedListenOptionsAreHonoured()
    {
        await using var server = await Tcptalk.ServeAsync("--listen", "127.0.0.1:0", "--listen", "[::1]:0", "--greeting", "Hi {address} from port {port}");
        await server.Process.WaitForLineAsync(l => l.Contains("Listening on [::1]:", StringComparison.Ordinal), stderr: true);
        var endpoints = server.Process.Stderr.Where(l => l.Contains("Listening on", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, endpoints.Length);
        Assert.Contains(endpoints, l => l.Contains("Listening on [::1]:", StringComparison.Ordinal));

        using var client = await RawClient.ConnectAsync(server.Loopback);
        int localPort = ((IPEndPoint)client.Socket.LocalEndPoint!).Port;
        Assert.Equal($"Hi 127.0.0.1 from port {localPort}", Encoding.ASCII.GetString(await client.ReadFrameAsync()));
    }

    [Fact]
    public async Task TwoHundredSilentClientsDoNotDelayAnotherClient()
    {
        await using var server = await Tcptalk.ServeAsync();
        var silent = new List<RawClient>();
        try
        {
            for (int i = 0; i < 200; i++)
            {
                silent.Add(await RawClient.ConnectAsync(server.Loopback));
            }

            // Half of them even started a message and stopped mid-way.
            foreach (var client in silent.Take(100))
            {
                await client.SendAsync("partial"u8.ToArray());
            }

            var started = DateTime.UtcNow;
            var (code, stdout, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "served"]);
            Assert.Equal(0, code);
            Assert.Equal(["Welcome 127.0.0.1!"], stdout);
            await server.Process.WaitForLineAsync(l => l.EndsWith(" served", StringComparison.Ordinal), timeout: Soon);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(10));

            foreach (var client in silent)
            {
                Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await client.ReadFrameAsync()));
            }
        }
        finally
        {
            silent.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task PortAlreadyInUseIsOneLineAndExitCode10()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["serve", "--listen", $"127.0.0.1:{port}", "--no-journal"]);

        Assert.Equal(10, code);
        Assert.Empty(stdout);
        Assert.Equal([$"tcptalk: address 127.0.0.1:{port} is already in use"], stderr);
    }

    [Fact]
    public async Task AJournalThatCannotBeCreatedIsOneLineInTheRuntimesWordsNotAResourceKey()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // /proc, where no file can be created, is Linux's
        }

        // Before: "unexpected error: FileNotFoundException: IO_FileNotFound_FileName, /proc/..." (UseSystemResourceKeys).
        string journal = $"/proc/tcptalk-{Guid.NewGuid():N}.db";
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["serve", "--listen", "127.0.0.1:0", "--journal", journal]);

        Assert.Contains(code, new[] { 1, 11 }); // 11 once the journal names it a journal error; never 0
        Assert.Empty(stdout);
        string line = Assert.Single(stderr, l => !ServeLog.IsInformation(l)); // listening and stopping may come first
        Assert.StartsWith("tcptalk: ", line, StringComparison.Ordinal);
        Assert.Contains(journal, line, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\b[A-Z][A-Za-z0-9]*_[A-Za-z0-9_]+\b", line);
    }

    [Fact]
    public async Task SigtermLetsTheMessageInFlightFinishThenExitsZero()
    {
        await using var server = await Tcptalk.ServeAsync("--shutdown-timeout", "10s", "-v");
        using var idle = await RawClient.ConnectAsync(server.Loopback);
        using var busy = await RawClient.ConnectAsync(server.Loopback);
        await idle.ReadFrameAsync();
        await busy.ReadFrameAsync();
        await busy.SendAsync("done before\0half a mes"u8.ToArray());
        await server.Process.WaitForLineAsync(l => l.EndsWith(" done before", StringComparison.Ordinal));

        server.Process.Signal("TERM");
        Assert.Empty(await idle.ReadToEndAsync()); // the idle client is closed at once
        await Task.Delay(100);
        Assert.False(server.Process.HasExited);
        await busy.SendAsync("sage\0"u8.ToArray());
        Assert.Empty(await busy.ReadToEndAsync()); // closed at the message boundary
        Assert.Equal(0, await server.Process.WaitForExitAsync());

        var texts = server.Process.Stdout.Select(l => l.Split(' ', 3)[2]).ToArray();
        Assert.Equal(["done before", "half a message"], texts);
        Assert.Contains(server.Process.Stderr, l => l.Contains("Stopped after 2 connection(s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task VerboseLogsConnectionOpenAndCloseWithTheFiveParts()
    {
        await using var server = await Tcptalk.ServeAsync("-v");
        using var client = await RawClient.ConnectAsync(server.Loopback);
        await client.ReadFrameAsync();
        int clientPort = ((IPEndPoint)client.Socket.LocalEndPoint!).Port;
        client.HalfClose();
        await client.ReadToEndAsync();

        await server.Process.WaitForLineAsync(l => l.Contains("closed:", StringComparison.Ordinal), stderr: true);
        Assert.Contains(server.Process.Stderr, l => l.Contains($"opened: tcp local 127.0.0.1:{server.Port} remote 127.0.0.1:{clientPort}", StringComparison.Ordinal));
        Assert.Contains(server.Process.Stderr, l => l.Contains($"closed: tcp local 127.0.0.1:{server.Port} remote 127.0.0.1:{clientPort}; 0 message(s)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ManyLinesAreAllFlushedAtExit()
    {
        await using var server = await Tcptalk.ServeAsync();
        using var client = await RawClient.ConnectAsync(server.Loopback);
        await client.ReadFrameAsync();
        var payload = new StringBuilder();
        for (int i = 0; i < 20_000; i++)
        {
            payload.Append("line-").Append(i).Append('\0');
        }

        await client.SendAsync(Encoding.ASCII.GetBytes(payload.ToString()));
        client.HalfClose();
        await client.ReadToEndAsync();
        Assert.Equal(0, await server.StopAsync());
        Assert.Equal(20_000, server.Process.Stdout.Count);
        Assert.EndsWith(" line-19999", server.Process.Stdout[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidOptionValuesAreUsageErrors()
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["serve", "--framing", "crlf", "--max-message-bytes", "0"]);
        Assert.Equal(2, code);
        var line = Assert.Single(stderr);
        Assert.Contains("--framing must be nul, line, octet, u16be or u32be, not 'crlf'", line, StringComparison.Ordinal);
        Assert.Contains("--max-message-bytes must be between 1 and", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AccessRulesWithHostBitsAreRefusedWithTheNetworkMeant()
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["serve", "--no-journal", "--allow", "10.1.2.3/8", "--deny", "nonsense"]);
        Assert.Equal(2, code);
        var line = Assert.Single(stderr);
        Assert.Contains("--allow '10.1.2.3/8': bits are set after the /8 prefix (did you mean 10.0.0.0/8?)", line, StringComparison.Ordinal);
        Assert.Contains("--deny 'nonsense': not an IP address or network", line, StringComparison.Ordinal);
    }
}
