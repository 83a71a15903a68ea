using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary><c>tcptalk messages --export FILE</c>: a consistent copy that <c>messages --journal FILE</c> reads, never over a file unless --force.</summary>
public sealed class JournalExportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-export-").FullName;

    private string Db => Path.Combine(_dir, "talk.db");

    private string Copy => Path.Combine(_dir, "copy.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task AnExportWhileServeWritesReadsBackAsTheJournalDid()
    {
        await using var server = await Tcptalk.ServeAsync("--journal", Db);
        var (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "one", "two", "three"]);
        Assert.Equal(0, code);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" three", StringComparison.Ordinal));

        var (exported, stdout, stderr) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--export", Copy]);

        Assert.True(exported == 0, string.Join(" | ", stderr));
        Assert.Equal([$"exported the journal up to id 3 to {Copy}"], stdout);
        var (_, original, _) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--json"]);
        var (read, copied, copyErrors) = await Tcptalk.RunAsync(["messages", "--journal", Copy, "--json"]);
        Assert.True(read == 0, string.Join(" | ", copyErrors));
        Assert.Equal(3, copied.Count);
        Assert.Equal(original, copied);
        Assert.False(File.Exists(Copy + "-wal") && new FileInfo(Copy + "-wal").Length > 0);
    }

    [Fact]
    public async Task AnExistingFileIsReplacedOnlyWithForce()
    {
        await using (var server = await Tcptalk.ServeAsync("--journal", Db))
        {
            await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "kept"]);
            await server.Process.WaitForLineAsync(l => l.EndsWith(" kept", StringComparison.Ordinal));
        }

        await File.WriteAllTextAsync(Copy, "precious");
        var (code, _, stderr) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--export", Copy]);
        Assert.Equal(2, code);
        Assert.Equal([$"tcptalk: {Copy} exists; pass --force to replace it"], stderr);
        Assert.Equal("precious", await File.ReadAllTextAsync(Copy));

        (code, _, stderr) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--export", Copy, "--force"]);
        Assert.True(code == 0, string.Join(" | ", stderr));
        var (_, stdout, _) = await Tcptalk.RunAsync(["messages", "--journal", Copy]);
        Assert.EndsWith(" kept", Assert.Single(stdout), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir, ".copy.db.export-*"));
    }

    [Theory]
    [InlineData("--contains", "x", "tcptalk: --export copies the whole journal; --contains applies when reading the copy (messages --journal out.db --contains ...)")]
    [InlineData("--force", null, "tcptalk: --force goes with --export")]
    public async Task FiltersAndAStrayForceAreUsageErrors(string flag, string? value, string expected)
    {
        string[] args = flag == "--force"
            ? ["messages", "--journal", Db, "--force"]
            : ["messages", "--journal", Db, "--export", "out.db", flag, value!];
        var (code, _, stderr) = await Tcptalk.RunAsync(args);

        Assert.Equal(2, code);
        Assert.Equal([expected], stderr);
    }

    [Fact]
    public async Task ExportingAMissingJournalExitsWith11()
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--export", Copy]);

        Assert.Equal(11, code);
        Assert.Equal([$"tcptalk: journal {Db} does not exist"], stderr);
        Assert.False(File.Exists(Copy));
    }
}
