using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>What a new user meets on a first <c>tcptalk serve</c>: the help, the first line on stderr, a port in use.</summary>
public sealed class ServeFirstRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-first-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("--port", "12345")]
    [InlineData("--listen", "none")]
    [InlineData("--greeting", "Welcome {address}!")]
    [InlineData("--shutdown-timeout", "5s")]
    [InlineData("--max-connections-per-address", "0")]
    [InlineData("--idle-timeout", "1m")]
    [InlineData("--message-timeout", "30s")]
    [InlineData("--write-timeout", "30s")]
    [InlineData("--keepalive-time", "2m")]
    [InlineData("--keepalive-interval", "10s")]
    [InlineData("--keepalive-count", "5")]
    [InlineData("--allow", "none")]
    [InlineData("--deny", "none")]
    [InlineData("--journal", "tcptalk.db")]
    [InlineData("--tls-cert", "none")]
    [InlineData("--tls-key", "none")]
    [InlineData("--tls-client-ca", "none")]
    [InlineData("--tls-handshake-timeout", "10s")]
    [InlineData("--output", "text")]
    public async Task ServeHelpShowsEachOptionsDefaultAsTheFlagTakesIt(string option, string shown)
    {
        var (code, stdout, _) = await Tcptalk.RunAsync(["serve", "--help"]);

        Assert.Equal(0, code);
        string line = Assert.Single(stdout, l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal) || l.Contains(", " + option + " ", StringComparison.Ordinal));
        Assert.EndsWith($"[default: {shown}]", line.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServeHelpShowsMaxConnectionsDefaultAndEveryDurationDefaultParsesAsTheFlag()
    {
        var (code, stdout, _) = await Tcptalk.RunAsync(["serve", "--help"]);

        Assert.Equal(0, code);
        Assert.Matches(@"\[default: \d+\]$", Assert.Single(stdout, l => l.TrimStart().StartsWith("--max-connections ", StringComparison.Ordinal)).TrimEnd());
        Assert.DoesNotContain(stdout, l => l.Contains("[default: 00:", StringComparison.Ordinal)); // durations as the flags take them
        Assert.DoesNotContain(stdout, l => l.Contains("--max-connections-per-ip", StringComparison.Ordinal)); // the old spelling is hidden
    }

    [Fact]
    public async Task TheOldMaxConnectionsPerIpSpellingStillSetsMaxConnectionsPerAddress()
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["serve", "--max-connections-per-ip", "3", "--print-config"]);
        var (newCode, newStdout, _) = await Tcptalk.RunAsync(["serve", "--max-connections-per-address", "4", "--print-config"]);

        Assert.Equal(0, code);
        Assert.Empty(stderr);
        Assert.Contains(stdout, l => l.Contains("\"MaxConnectionsPerAddress\": 3,  // --max-connections-per-ip", StringComparison.Ordinal));
        Assert.Equal(0, newCode);
        Assert.Contains(newStdout, l => l.Contains("\"MaxConnectionsPerAddress\": 4,  // --max-connections-per-address", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AServeThatCannotListenHasCreatedNoJournal()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        int port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        // The journal on, as by default: tcptalk.db in the working directory.
        await using var process = Tcptalk.Start(["serve", "--listen", $"127.0.0.1:{port}"], stdin: "", workingDirectory: _dir);
        int code = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(10, code);
        Assert.Equal([$"tcptalk: address 127.0.0.1:{port} is already in use"], process.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(_dir)); // no tcptalk.db, tcptalk.db.lock, -wal or -shm
    }

    [Fact]
    public async Task TheFirstLineOnStderrOfAPlainServeIsWhereItListens()
    {
        int port = FreePort.Get();
        await using var server = await Tcptalk.ListeningAsync(Tcptalk.Start(["serve", "--port", port.ToString(CultureInfo.InvariantCulture)],
            stdin: "", workingDirectory: _dir));

        Assert.EndsWith($"Listening on [::]:{port} (IPv6 and IPv4)", server.Process.Stderr[0], StringComparison.Ordinal);
        Assert.Equal(0, await server.StopAsync());
        Assert.True(File.Exists(Path.Combine(_dir, "tcptalk.db"))); // the journal was opened, after the listener
    }
}
