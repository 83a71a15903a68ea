using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary><c>tcptalk send HOST</c> on a terminal, typed at as a user types: prompt, Ctrl+C, Ctrl+D, the server closing.</summary>
public class InteractiveSendTests
{
    /// <summary>The prompt at the start of a line (with -v, "connected: a -> b" also holds "> ").</summary>
    private const string Prompt = "\n> ";

    private const string Intro = "Each line you type is sent as one message (ended by a NUL byte); empty lines are skipped. " +
                                 "Ctrl+D finishes, Ctrl+C interrupts. If the server closes the connection while you pause, the next line reconnects.";

    [TerminalFact]
    public async Task FirstLineSaysHowToFinishAndFramingAndCtrlDEndsThePromptLine()
    {
        await using var server = await Tcptalk.ServeAsync();
        await using var terminal = Terminal.StartTcptalk("send", $"127.0.0.1:{server.Port}");
        await terminal.WaitForAsync(Prompt);
        await terminal.TypeAsync("one\n");
        await terminal.WaitForAsync(Prompt, count: 2);
        await terminal.TypeAsync("\n"); // an Enter alone sends nothing
        await terminal.WaitForAsync(Prompt, count: 3);
        await terminal.TypeAsync("two\n");
        await terminal.WaitForAsync(Prompt, count: 4);
        await terminal.TypeAsync(Terminal.CtrlD);

        Assert.Equal(0, await terminal.WaitForExitAsync());
        Assert.Equal($"Welcome 127.0.0.1!\n{Intro}\n> one\n> \n> two\n> \n", AfterTerminalSetup(terminal.Screen));
        await server.Process.WaitForLineAsync(l => l.EndsWith(" two", StringComparison.Ordinal));
        Assert.Equal(["one", "two"], server.Process.Stdout.Select(l => l.Split(' ', 3)[2]));
    }

    [TerminalFact]
    public async Task CtrlCAtThePromptEndsTheSessionAtOnceWithOneLineAnd130()
    {
        await using var server = await Tcptalk.ServeAsync();
        await using var terminal = Terminal.StartTcptalk("send", $"127.0.0.1:{server.Port}");
        await terminal.WaitForAsync(Prompt);
        await terminal.TypeAsync("half a line");
        await terminal.WaitForAsync("half a line");
        await terminal.TypeAsync(Terminal.CtrlC); // no Enter

        Assert.Equal(130, await terminal.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        // The terminal echoes Ctrl+C as ^C (ECHOCTL); then one line, and nothing else.
        Assert.Matches(@"\n> half a line(\^C)?\ntcptalk: interrupted\n$", terminal.Screen);
        Assert.Empty(server.Process.Stdout); // the half line was not sent
    }

    [TerminalFact]
    public async Task AnIdleCloseIsShownAsItHappensAndTheNextLineReconnects()
    {
        await using var server = await Tcptalk.ServeAsync("--idle-timeout", "1s");
        await using var terminal = Terminal.StartTcptalk("send", $"127.0.0.1:{server.Port}");
        await terminal.WaitForAsync(Prompt);
        await terminal.TypeAsync("before\n");

        // Nothing typed: the close must be shown anyway, within the idle timeout and a margin.
        await terminal.WaitForAsync("tcptalk: server closed the idle connection (no complete message for 1s (idle timeout)); the next line reconnects\n",
            timeout: TimeSpan.FromSeconds(10));
        await terminal.TypeAsync("after\n");
        await terminal.WaitForAsync("reconnected to 127.0.0.1");
        await server.Process.WaitForLineAsync(l => l.EndsWith(" after", StringComparison.Ordinal));
        await terminal.WaitForAsync(Prompt, count: 4);
        await terminal.TypeAsync(Terminal.CtrlD);

        Assert.Equal(0, await terminal.WaitForExitAsync());
        Assert.Equal(["before", "after"], server.Process.Stdout.Select(l => l.Split(' ', 3)[2]));
    }

    [TerminalFact]
    public async Task ALineThatCannotBeSentAfterAnIdleCloseIsSaidNotToBeSent()
    {
        var server = await Tcptalk.ServeAsync("--idle-timeout", "1s");
        int port = server.Port;
        await using var terminal = Terminal.StartTcptalk("send", $"127.0.0.1:{port}");
        try
        {
            await terminal.WaitForAsync("the next line reconnects\n", timeout: TimeSpan.FromSeconds(10));
        }
        finally
        {
            Assert.Equal(0, await server.StopAsync()); // gone before the next line
            await server.DisposeAsync();
        }

        await terminal.TypeAsync("lost\n");
        Assert.Equal(4, await terminal.WaitForExitAsync());
        Assert.EndsWith($"> lost\ntcptalk: connection refused by 127.0.0.1:{port} (nothing listening on that port?); the line was not sent\n", terminal.Screen, StringComparison.Ordinal);
    }

    [TerminalFact]
    public async Task AnErrorFrameEndsTheSessionAtOnceWithoutWaitingForTheNextLine()
    {
        await using var server = await Tcptalk.ServeAsync("--max-message-bytes", "4");
        await using var terminal = Terminal.StartTcptalk("send", $"127.0.0.1:{server.Port}");
        await terminal.WaitForAsync(Prompt);
        await terminal.TypeAsync("far too long\n");

        Assert.Equal(8, await terminal.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.EndsWith("> far too long\n> \ntcptalk: server refused: message longer than 4 bytes (the limit); it starts \"far t\"\n", terminal.Screen, StringComparison.Ordinal);
    }

    [TerminalFact]
    public async Task VerboseShowsEachAcknowledgementUnderItsLine()
    {
        string dir = Directory.CreateTempSubdirectory("tcptalk-interactive-").FullName;
        try
        {
            await using var server = await Tcptalk.ServeAsync("--ack", "--journal", Path.Combine(dir, "j.db"));
            await using var terminal = Terminal.StartTcptalk("send", "-v", "--ack", $"127.0.0.1:{server.Port}");
            await terminal.WaitForAsync(Prompt);
            await terminal.TypeAsync("first\n");
            await terminal.WaitForAsync(Prompt, count: 2);
            await terminal.TypeAsync("second\n");
            await terminal.WaitForAsync(Prompt, count: 3);
            await terminal.TypeAsync(Terminal.CtrlD);

            Assert.Equal(0, await terminal.WaitForExitAsync());
            Assert.Contains("> first\nacknowledged as id 1\n> second\nacknowledged as id 2\n> \n", terminal.Screen, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The screen from the greeting on: .NET first sends terminal set-up sequences (keypad mode).</summary>
    private static string AfterTerminalSetup(string screen) => screen[screen.IndexOf("Welcome", StringComparison.Ordinal)..];
}
