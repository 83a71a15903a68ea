using System.Net;
using System.Net.Sockets;
using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>The systemd <c>Type=notify</c> handshake, with the test in systemd's place: it owns the NOTIFY_SOCKET.</summary>
public sealed class SystemdNotifyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-notify-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ReadyArrivesOnceListeningAndStoppingOnSigtermInThatOrder()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // sd_notify is Linux's; the Windows build uses the service manager instead
        }

        string path = Path.Combine(_dir, "notify");
        using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(path));
        int port = FreePort.Get();
        await using var server = Tcptalk.Start(["serve", "--listen", $"127.0.0.1:{port}", "--no-journal"],
            environment: new Dictionary<string, string> { ["NOTIFY_SOCKET"] = path });

        Assert.Equal("READY=1", await ReceiveAsync(notify));
        // READY means listening: the very next connection is accepted and greeted.
        using (var client = await RawClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)))
        {
            Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await client.ReadFrameAsync()));
        }

        server.Signal("TERM");
        Assert.Equal("STOPPING=1", await ReceiveAsync(notify));
        Assert.Equal(0, await server.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal(0, notify.Available); // nothing else was sent
    }

    [Fact]
    public async Task WithoutNotifySocketNothingIsSentAndServeRunsAsBefore()
    {
        await using var server = await Tcptalk.ServeAsync();
        using var client = await RawClient.ConnectAsync(server.Loopback);
        Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await client.ReadFrameAsync()));
        Assert.Equal(0, await server.StopAsync());
        Assert.DoesNotContain(server.Process.Stderr, l => l.Contains("Microsoft.", StringComparison.Ordinal)); // no host chatter
    }

    [Fact]
    public async Task WithTheJournalOnStderrLogsUseItsFormatAndMessagesStayOnStdout()
    {
        // systemd sets JOURNAL_STREAM when stderr is connected to the journal: "<priority>category[event] message".
        await using var server = await Tcptalk.ListeningAsync(Tcptalk.Start(["serve", "--listen", "127.0.0.1:0", "--no-journal"],
            environment: new Dictionary<string, string> { ["JOURNAL_STREAM"] = "8:12345" }));
        using (var client = await RawClient.ConnectAsync(server.Loopback))
        {
            await client.ReadFrameAsync();
            await client.SendAsync("hello\0"u8.ToArray());
            client.HalfClose();
            await client.ReadToEndAsync();
        }

        Assert.Equal(0, await server.StopAsync());
        Assert.Equal($"<6>TcpTalk.Server[1] Listening on 127.0.0.1:{server.Port}", server.Process.Stderr[0]);
        Assert.Equal("hello", Assert.Single(server.Process.Stdout).Split(' ', 3)[2]);
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }
}
