using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>The journal through the real CLI: serve stores, messages reads, --ack acknowledges.</summary>
public sealed class JournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-journal-").FullName;

    private string Db => Path.Combine(_dir, "talk.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task MessagesPrintsWhatServeStoredInTheSameFormat()
    {
        await using (var server = await Tcptalk.ServeAsync("--journal", Db))
        {
            var (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "first", "tab\there", "третий"]);
            Assert.Equal(0, code);
            await server.Process.WaitForLineAsync(l => l.EndsWith(" третий", StringComparison.Ordinal));
            Assert.Equal(0, await server.StopAsync());

            var (listed, stdout, stderr) = await Tcptalk.RunAsync(["messages", "--journal", Db]);
            Assert.True(listed == 0, string.Join(" | ", stderr));
            Assert.Equal(server.Process.Stdout, stdout);
            Assert.EndsWith(@" tab\there", stdout[1], StringComparison.Ordinal);

            (_, stdout, _) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--contains", "irs", "--json"]);
            var json = Assert.Single(stdout);
            Assert.Contains("\"text\":\"first\"", json, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AckedSendGetsOneJournalIdPerMessage()
    {
        await using var server = await Tcptalk.ServeAsync("--journal", Db, "--ack");
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--ack", "-v", $"127.0.0.1:{server.Port}", "a", "b", "c"]);

        Assert.True(code == 0, string.Join(" | ", stderr) + " || server: " + string.Join(" | ", server.Process.Stderr));
        Assert.Contains("acknowledged as ids 1 2 3", stderr);
    }

    [Fact]
    public async Task SendAckWithoutServerAcksExitsWith9()
    {
        await using var server = await Tcptalk.ServeAsync();
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--ack", "--ack-timeout", "300ms", $"127.0.0.1:{server.Port}", "a", "b"]);

        Assert.Equal(9, code);
        Assert.Equal(["tcptalk: server closed the connection without acknowledging 2 of 2 message(s) (does it acknowledge? tcptalk serve does with --ack); they may not be stored"], stderr);
    }

    [Fact]
    public async Task ASecondServerOnTheSameJournalFailsAtOnce()
    {
        await using var first = await Tcptalk.ServeAsync("--journal", Db);
        var (code, _, stderr) = await Tcptalk.RunAsync(["serve", "--listen", "127.0.0.1:0", "--journal", Db]);

        Assert.Equal(11, code);
        var line = Assert.Single(stderr, l => l.StartsWith("tcptalk:", StringComparison.Ordinal));
        Assert.Equal($"tcptalk: journal {Db} is in use by another tcptalk process (pid {first.Process.Id})", line);
    }

    [Fact]
    public async Task AckWithoutJournalIsAUsageError()
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["serve", "--no-journal", "--ack"]);
        Assert.Equal(2, code);
        Assert.Equal(["tcptalk: --ack needs the journal: acknowledgements carry the journal id of a stored message (drop --no-journal)"], stderr);
    }

    [Fact]
    public async Task FollowShowsMessagesAsTheyAreStored()
    {
        await using var server = await Tcptalk.ServeAsync("--journal", Db);
        await using var follow = Tcptalk.Start(["messages", "--journal", Db, "--follow"]);
        await Task.Delay(300);
        var (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "live one"]);
        Assert.Equal(0, code);

        string line = await follow.WaitForLineAsync(l => l.EndsWith(" live one", StringComparison.Ordinal));
        Assert.Equal(await server.Process.WaitForLineAsync(l => l.EndsWith(" live one", StringComparison.Ordinal)), line);
        follow.Signal("TERM");
        Assert.Equal(130, await follow.WaitForExitAsync()); // stopped, not finished: 130 as for send and bench
    }

    [Fact]
    public async Task FollowEndedByCtrlCKeepsWhatItPrintedAndExits130LikeSendAndBench()
    {
        await using var server = await Tcptalk.ServeAsync("--journal", Db);
        var (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "before ctrl-c"]);
        Assert.Equal(0, code);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" before ctrl-c", StringComparison.Ordinal));

        await using var follow = Tcptalk.Start(["messages", "--journal", Db, "--follow"]);
        await follow.WaitForLineAsync(l => l.EndsWith(" before ctrl-c", StringComparison.Ordinal));
        follow.Signal("INT");

        Assert.Equal(130, await follow.WaitForExitAsync());
        Assert.Single(follow.Stdout, l => l.EndsWith(" before ctrl-c", StringComparison.Ordinal));
        Assert.Empty(follow.Stderr);
    }

    [Fact]
    public async Task JsonLinesWriteTextAsUtf8AndStillEscapeControlCharacters()
    {
        const string text = "你好, café \u001b[31m and \"quotes\"";
        await using var server = await Tcptalk.ServeAsync("--journal", Db, "--output", "json");
        var (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", text]);
        Assert.Equal(0, code);
        string served = await server.Process.WaitForLineAsync(l => l.Contains("\"text\":", StringComparison.Ordinal));
        Assert.Equal(0, await server.StopAsync());
        var (listed, stdout, _) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--json"]);
        Assert.Equal(0, listed);

        foreach (string line in new[] { served, Assert.Single(stdout) })
        {
            Assert.Contains("\"text\":\"你好, café \\u001B[31m and \\\"quotes\\\"\"", line, StringComparison.Ordinal);
            Assert.DoesNotContain("\\u4F60", line, StringComparison.OrdinalIgnoreCase);
            using var parsed = System.Text.Json.JsonDocument.Parse(line);
            Assert.Equal(text, parsed.RootElement.GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task MessagesOnAFileThatIsNotAJournalExits11AsServeDoes()
    {
        string notJournal = Path.Combine(_dir, "notajournal.txt");
        await File.WriteAllTextAsync(notJournal, "just some text, long enough to have an SQLite header's worth of bytes in it\n");

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["messages", "--journal", notJournal]);

        Assert.Equal(11, code);
        Assert.Empty(stdout);
        string line = Assert.Single(stderr);
        Assert.StartsWith("tcptalk: ", line, StringComparison.Ordinal);
        Assert.Contains(notJournal, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeJsonOutputMatchesMessagesJson()
    {
        await using var server = await Tcptalk.ServeAsync("--journal", Db, "--output", "json");
        var (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "one", "two"]);
        Assert.Equal(0, code);
        await server.Process.WaitForLineAsync(l => l.Contains("\"text\":\"two\"", StringComparison.Ordinal));
        Assert.Equal(0, await server.StopAsync());

        var (listed, stdout, _) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--json"]);
        Assert.Equal(0, listed);
        Assert.Equal(stdout, server.Process.Stdout);
    }

    [Fact]
    public async Task MessagesFromTakesAnAddressOrANetworkWithHostBits()
    {
        await using (var server = await Tcptalk.ServeAsync("--journal", Db))
        {
            var (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "local"]);
            Assert.Equal(0, code);
            await server.Process.WaitForLineAsync(l => l.EndsWith(" local", StringComparison.Ordinal));
            Assert.Equal(0, await server.StopAsync());
        }

        var (_, around, _) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--from", "127.0.0.9/24"]);
        Assert.Single(around, l => l.EndsWith(" local", StringComparison.Ordinal));
        var (_, elsewhere, _) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--from", "[::1]"]);
        Assert.Empty(elsewhere);
    }
}
