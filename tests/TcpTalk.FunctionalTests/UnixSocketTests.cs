using System.Text.Json;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>serve, send, bench and messages over a unix socket, as real processes: the peer is named by pid and uid.</summary>
public sealed class UnixSocketTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-unix-").FullName;

    private string SocketPath => Path.Combine(_dir, "talk.sock");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>This user's id, as the server reads it from SO_PEERCRED.</summary>
    internal static string UserId() =>
        File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];

    private async Task<RunningProcess> ServeAsync(params string[] extra)
    {
        var serve = Tcptalk.Start(["serve", "--listen", "unix:" + SocketPath, "--no-journal", .. extra]);
        await serve.WaitForLineAsync(l => l.EndsWith($"Listening on unix:{SocketPath}", StringComparison.Ordinal), stderr: true);
        return serve;
    }

    [Fact]
    public async Task SendOverAUnixSocketIsGreetedAndPrintedWithItsPidAndUid()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // SO_PEERCRED
        }

        await using var serve = await ServeAsync();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(SocketPath));

        await using var send = Tcptalk.Start(["send", "unix:" + SocketPath, "hello"]);
        Assert.Equal(0, await send.WaitForExitAsync());
        string peer = $"unix:pid={send.Id},uid={UserId()}";
        Assert.Equal([$"Welcome {peer}!"], send.Stdout);
        string line = await serve.WaitForLineAsync(l => l.EndsWith(" hello", StringComparison.Ordinal));
        Assert.Equal($"{peer} hello", line.Split(' ', 2)[1]);

        serve.Signal("TERM");
        Assert.Equal(0, await serve.WaitForExitAsync());
        Assert.False(File.Exists(SocketPath)); // removed at stop
    }

    [Fact]
    public async Task UnixSocketModeFlagSetsTheFileMode()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await using var serve = await ServeAsync("--unix-socket-mode", "666");
        Assert.Equal((UnixFileMode)0x1B6, File.GetUnixFileMode(SocketPath));
    }

    [Fact]
    public async Task SocketFileOfAKilledServerIsReplacedByTheNextOne()
    {
        await using (var killed = await ServeAsync())
        {
            killed.Signal("KILL");
            await killed.WaitForExitAsync();
        }

        Assert.True(File.Exists(SocketPath)); // nobody removed it
        await using var serve = await ServeAsync();
        await using var send = Tcptalk.Start(["send", "unix:" + SocketPath, "again"]);
        Assert.Equal(0, await send.WaitForExitAsync());
    }

    [Fact]
    public async Task SecondServerOnALiveSocketFailsAndLeavesItServing()
    {
        await using var first = await ServeAsync();
        var (code, _, stderr) = await Tcptalk.RunAsync(["serve", "--listen", "unix:" + SocketPath, "--no-journal"]);
        Assert.Equal(10, code); // ListenFailed
        Assert.Equal($"tcptalk: unix:{SocketPath} is already in use: another server listens on it", stderr[^1]);
        await using var send = Tcptalk.Start(["send", "unix:" + SocketPath, "still there"]);
        Assert.Equal(0, await send.WaitForExitAsync());
    }

    [Fact]
    public async Task SendToAMissingUnixSocketSaysSo()
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "unix:" + SocketPath, "hi"]);
        Assert.Equal(4, code); // ConnectFailed
        Assert.Equal([$"tcptalk: could not connect to unix:{SocketPath}: no such socket file"], stderr);
    }

    [Fact]
    public async Task BenchLoadsAUnixSocket()
    {
        await using var serve = await ServeAsync();
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["bench", "unix:" + SocketPath, "--messages", "300", "--connections", "8", "--json"], timeout: TimeSpan.FromSeconds(60));
        Assert.True(code == 0, string.Join('\n', stderr));
        using var json = JsonDocument.Parse(string.Join('\n', stdout));
        var root = json.RootElement;
        Assert.Equal("unix:" + SocketPath, root.GetProperty("host").GetString());
        Assert.Equal("unix", root.GetProperty("address").GetString());
        Assert.Equal(0, root.GetProperty("port").GetInt32());
        Assert.True(root.GetProperty("greeted").GetInt64() >= 300, json.RootElement.ToString());
        Assert.Equal(0, root.GetProperty("errors").GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task JournaledUnixMessagesListTheirPeerAndSocket()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        string journal = Path.Combine(_dir, "journal.db");
        int sender;
        await using (var serve = Tcptalk.Start(["serve", "--listen", "unix:" + SocketPath, "--journal", journal, "--ack"]))
        {
            await serve.WaitForLineAsync(l => l.Contains("Listening on unix:", StringComparison.Ordinal), stderr: true);
            await using var send = Tcptalk.Start(["send", "--ack", "unix:" + SocketPath, "kept"]);
            Assert.Equal(0, await send.WaitForExitAsync());
            sender = send.Id;
            serve.Signal("TERM");
            Assert.Equal(0, await serve.WaitForExitAsync());
        }

        var (code, stdout, _) = await Tcptalk.RunAsync(["messages", "--journal", journal, "--json"]);
        Assert.Equal(0, code);
        using var record = JsonDocument.Parse(Assert.Single(stdout));
        Assert.Equal($"unix:pid={sender},uid={UserId()}", record.RootElement.GetProperty("client_address").GetString());
        Assert.Equal(0, record.RootElement.GetProperty("client_port").GetInt32());
        Assert.Equal("unix:" + SocketPath, record.RootElement.GetProperty("local_address").GetString());
        Assert.Equal("kept", record.RootElement.GetProperty("text").GetString());
    }
}
