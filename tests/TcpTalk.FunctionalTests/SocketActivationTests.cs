using System.Net;
using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// systemd socket activation with systemd's own <c>systemd-socket-activate</c> in systemd's place: it binds the
/// sockets, waits for the first client and execs <c>tcptalk serve</c> with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES.
/// </summary>
public sealed class SocketActivationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-activate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Starts <c>systemd-socket-activate -l ... dotnet tcptalk.dll serve ...</c> and waits until every socket is bound.</summary>
    private static async Task<RunningProcess> ActivateAsync(string[] sockets, params string[] serve)
    {
        string tool = Executables.Find("systemd-socket-activate")
            ?? throw new InvalidOperationException("systemd-socket-activate is missing: install Debian's systemd package (.ci/run does)");
        var process = RunningProcess.Start(tool, [.. sockets.SelectMany(s => new[] { "-l", s }), "dotnet", Tcptalk.Dll, "serve", "--no-journal", .. serve]);
        await process.WaitForLineAsync(l => l.StartsWith($"Listening on {sockets[^1]} as ", StringComparison.Ordinal), stderr: true);
        return process;
    }

    [SocketActivateFact]
    public async Task ServeGreetsOnTheInheritedSocketAndBindsNothingOfItsOwn()
    {
        int port = FreePort.Get();
        await using var activated = await ActivateAsync([$"127.0.0.1:{port}"]);

        // The first client waits in the socket's backlog while tcptalk starts: socket activation's promise.
        using (var client = await RawClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await client.ReadFrameAsync(timeout: TimeSpan.FromSeconds(30))));
            await client.SendAsync("activated\0"u8.ToArray());
            client.HalfClose();
            await client.ReadToEndAsync();
        }

        await activated.WaitForLineAsync(l => l.EndsWith(" activated", StringComparison.Ordinal));
        activated.Signal("TERM"); // systemd-socket-activate exec'd: its pid is the server's
        Assert.Equal(0, await activated.WaitForExitAsync());
        var listening = activated.Stderr.Where(l => l.Contains("Listening on", StringComparison.Ordinal) && l.Contains("TcpTalk.Server", StringComparison.Ordinal));
        Assert.Equal([$"Listening on 127.0.0.1:{port} (from systemd)"], listening.Select(l => l[l.IndexOf("Listening on", StringComparison.Ordinal)..]));
    }

    [SocketActivateFact]
    public async Task TcpAndUnixSocketsFromOneSocketUnitAreBothServed()
    {
        int port = FreePort.Get();
        string path = Path.Combine(_dir, "activated.sock");
        await using var activated = await ActivateAsync([$"127.0.0.1:{port}", path]);

        await using (var send = Tcptalk.Start(["send", "unix:" + path, "over unix"]))
        {
            Assert.Equal(0, await send.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal([$"Welcome unix:pid={send.Id},uid={UnixSocketTests.UserId()}!"], send.Stdout);
        }

        await using (var send = Tcptalk.Start(["send", $"127.0.0.1:{port}", "over tcp"]))
        {
            Assert.Equal(0, await send.WaitForExitAsync());
            Assert.Equal(["Welcome 127.0.0.1!"], send.Stdout);
        }

        await activated.WaitForLineAsync(l => l.EndsWith(" over tcp", StringComparison.Ordinal));
        Assert.Contains(activated.Stderr, l => l.EndsWith($"Listening on unix:{path} (from systemd)", StringComparison.Ordinal));
        activated.Signal("TERM");
        Assert.Equal(0, await activated.WaitForExitAsync());
        Assert.True(File.Exists(path)); // the socket unit's file: systemd removes it, not the service
    }

    [SocketActivateFact]
    public async Task ListenBesideInheritedSocketsIsAUsageError()
    {
        int port = FreePort.Get();
        await using var activated = await ActivateAsync([$"127.0.0.1:{port}"], "--listen", "127.0.0.1:0");
        using (var client = await RawClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            // The connection that triggers the start; the server refuses to start, so it is closed unanswered.
            Assert.Equal(2, await activated.WaitForExitAsync()); // Usage
        }

        Assert.Equal("tcptalk: --listen cannot be used with systemd socket activation (1 socket(s) in LISTEN_FDS): the socket unit's ListenStream= decides where the server listens", activated.Stderr[^1]);
    }

    [Fact]
    public async Task VariablesMeantForAnotherProcessAreIgnored()
    {
        // LISTEN_PID of another process: an inherited environment, not sockets for us. serve binds its own as usual.
        await using var serve = await Tcptalk.ListeningAsync(Tcptalk.Start(["serve", "--listen", "127.0.0.1:0", "--no-journal"],
            environment: new Dictionary<string, string> { ["LISTEN_FDS"] = "1", ["LISTEN_PID"] = "1" }));
        using var client = await RawClient.ConnectAsync(serve.Loopback);
        Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await client.ReadFrameAsync()));
        Assert.DoesNotContain(serve.Process.Stderr, l => l.Contains("(from systemd)", StringComparison.Ordinal));
    }
}

/// <summary>A fact that needs systemd-socket-activate (Linux); skipped elsewhere. Where Linux lacks the tool, it fails: .ci/run installs it.</summary>
public sealed class SocketActivateFactAttribute : FactAttribute
{
    public SocketActivateFactAttribute()
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = "socket activation is systemd's (Linux)";
        }
    }
}
