using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>The heart of the mission: TcpTalk and the classic C programs talk to each other, both ways.</summary>
[Collection(CProgramsCollection.Name)]
public class InteropTests(CPrograms c)
{
    [Fact]
    public async Task ClassicCClientIsGreetedAndItsWordIsPrintedByServe()
    {
        await using var server = await Tcptalk.ServeAsync();
        await using var client = RunningProcess.Start(c.Client, ["127.0.0.1", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)], "hello\n");

        Assert.Equal(0, await client.WaitForExitAsync());
        Assert.Equal(["Welcome 127.0.0.1!"], client.Stdout);
        string line = await server.Process.WaitForLineAsync(l => l.EndsWith(" hello", StringComparison.Ordinal));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 127\.0\.0\.1:\d+ hello$", line);
    }

    [Fact]
    public async Task SendTalksToTheClassicCServer()
    {
        int port = FreePort.Get();
        await using var cServer = RunningProcess.Start(c.Server, [port.ToString(System.Globalization.CultureInfo.InvariantCulture), "1"]);
        await cServer.WaitForLineAsync(l => l.StartsWith("listening", StringComparison.Ordinal), stderr: true);

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{port}", "hello"]);

        Assert.True(code == 0, string.Join(" | ", stderr));
        Assert.Equal(["Welcom 127.0.0.1!"], stdout);
        Assert.Empty(stderr);
        Assert.Equal(0, await cServer.WaitForExitAsync());
        Assert.Equal(["hello"], cServer.Stdout);
    }

    [Fact]
    public async Task GbkBytesFromTheCClientPrintAsChineseWithEncodingGbk()
    {
        await using var server = await Tcptalk.ServeAsync("--encoding", "gbk");
        // 你好 in GBK: C4 E3 BA C3, typed on a Chinese-Windows console and sent as raw bytes by scanf/send.
        var stdinBytes = Encoding.Latin1; // maps the bytes 1:1 so the C client reads exactly C4 E3 BA C3
        await using var client = RunningProcess.Start(c.Client, ["127.0.0.1", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            "\u00C4\u00E3\u00BA\u00C3\n", stdinEncoding: stdinBytes);

        Assert.Equal(0, await client.WaitForExitAsync());
        string line = await server.Process.WaitForLineAsync(l => l.Contains("127.0.0.1:", StringComparison.Ordinal));
        Assert.EndsWith(" 你好", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClassicServerThatStopsReadingIsReportedAsClosedNotACrash()
    {
        int port = FreePort.Get();
        await using var cServer = RunningProcess.Start(c.Server, [port.ToString(System.Globalization.CultureInfo.InvariantCulture), "1"]);
        await cServer.WaitForLineAsync(l => l.StartsWith("listening", StringComparison.Ordinal), stderr: true);

        // Line 1 is read and printed; the server then closes. Line 2 can no longer be delivered.
        await using var send = Tcptalk.Start(["send", $"127.0.0.1:{port}"]);
        await send.WaitForLineAsync(l => l.StartsWith("Welcom", StringComparison.Ordinal));
        await send.Stdin.WriteLineAsync("first");
        await send.Stdin.FlushAsync();
        await cServer.WaitForLineAsync(l => l == "first");
        Assert.Equal(0, await cServer.WaitForExitAsync());
        await Task.Delay(1000); // let the server's FIN reach the client
        await send.Stdin.WriteLineAsync("second");
        send.Stdin.Close();

        Assert.Equal(7, await send.WaitForExitAsync());
        var error = Assert.Single(send.Stderr);
        Assert.StartsWith("tcptalk: server ", error, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", error, StringComparison.Ordinal);
    }
}
