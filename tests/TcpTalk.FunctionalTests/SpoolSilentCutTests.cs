using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// <c>send --spool</c> across a network path that goes silent (no FIN, no RST: packets just stop, through a
/// <see cref="FreezableRelay"/>): the missing acknowledgements are noticed after <c>--ack-timeout</c>, the sender
/// reconnects and every line arrives at least once.
/// </summary>
[Collection(JournalProofsCollection.Name)]
public sealed class SpoolSilentCutTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-spool-cut-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Lines(int from, int count) => string.Concat(Enumerable.Range(from, count).Select(i => $"line {i}\n"));

    [Fact]
    public async Task ASilentlyDeadPathIsNoticedByTheAckTimeoutAndEveryLineArrivesOverANewConnection()
    {
        int port = FreePort.Get();
        string db = Path.Combine(_dir, "serve.db");
        await using var server = await Tcptalk.ServeAsync(["--listen", $"127.0.0.1:{port}", "--journal", db, "--ack"]);
        await using var relay = new FreezableRelay(port);
        await using var send = Tcptalk.Start(["send", "--spool", Path.Combine(_dir, "spool"), "-v", "--ack-timeout", "1s", "--retry-max-delay", "300ms", $"127.0.0.1:{relay.Port}"]);

        await send.Stdin.WriteAsync(Lines(1, 10));
        await send.Stdin.FlushAsync();
        await server.Process.WaitForLineAsync(l => l.EndsWith(" line 10", StringComparison.Ordinal), timeout: TimeSpan.FromSeconds(30));
        await send.WaitForLineAsync(l => l.StartsWith("connected: ", StringComparison.Ordinal), stderr: true);
        relay.Freeze();
        var frozenAt = DateTime.UtcNow;
        await send.Stdin.WriteAsync(Lines(11, 10)); // sent into the silent path: no ack, no error, nothing
        await send.Stdin.FlushAsync();

        await send.WaitForLineAsync(l => l.StartsWith("retry in ", StringComparison.Ordinal) && l.Contains("were not acknowledged within 1s", StringComparison.Ordinal),
            stderr: true, timeout: TimeSpan.FromSeconds(30));
        Assert.True(DateTime.UtcNow - frozenAt >= TimeSpan.FromSeconds(1), "a retry before the ack timeout: the cut was not silent");
        await send.WaitForLineAsync(l => l.StartsWith("connected: ", StringComparison.Ordinal) && l.Contains(" after an outage of ", StringComparison.Ordinal),
            stderr: true, timeout: TimeSpan.FromSeconds(30));
        send.Stdin.Close();

        Assert.Equal(0, await send.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(relay.Connections >= 2, $"{relay.Connections} connection(s) through the relay: no reconnect");
        Assert.Equal(0, await server.StopAsync());
        var stored = (await JournalFile.ReadAsync(db)).Select(r => r.Text).ToHashSet();
        Assert.Equal([], Enumerable.Range(1, 20).Select(i => $"line {i}").Where(t => !stored.Contains(t)));
    }
}
