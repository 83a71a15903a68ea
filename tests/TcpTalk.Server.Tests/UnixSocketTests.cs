using System.Net;
using System.Net.Sockets;
using TcpTalk.Messages;
using TcpTalk.Server;
using TcpTalk.TestSupport;

namespace TcpTalk.Server.Tests;

/// <summary>Unix-domain listeners: the peer's name, the socket file (stale, taken, mode, removal) and access control.</summary>
public sealed class UnixSocketTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tcptalk-unix-").FullName;

    private string SocketPath => Path.Combine(_directory, "talk.sock");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private TalkServerOptions OnUnixSocket(Action<TalkServerOptions>? configure = null)
    {
        var options = new TalkServerOptions();
        options.Listen.Add(new UnixDomainSocketEndPoint(SocketPath));
        configure?.Invoke(options);
        return options;
    }

    private async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath));
        return socket;
    }

    /// <summary>This process's real user id, as SO_PEERCRED reports it to the server (from /proc: .NET has no getuid).</summary>
    private static string ProcessUserId() =>
        File.ReadLines("/proc/self/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];

    [Fact]
    public async Task UnixClientIsGreetedAndRecordedByItsPidAndUid()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // SO_PEERCRED is Linux's
        }

        var sink = new ChannelMessageSink();
        await using var server = new TalkServer(OnUnixSocket(), sink);
        await server.StartAsync();
        Assert.Equal([SocketPath], server.UnixSocketPaths);
        Assert.Empty(server.BoundEndpoints);

        using var client = await ConnectAsync();
        await client.SendAsync("hi\0"u8.ToArray());
        client.Shutdown(SocketShutdown.Send);
        string peer = $"unix:pid={Environment.ProcessId},uid={ProcessUserId()}";
        Assert.Equal($"Welcome {peer}!\0", await Loopback.ReadAsync(client));

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var message = await sink.ReadAllAsync(cts.Token).FirstAsync(cts.Token);
        var connection = message.Connection;
        Assert.Equal("unix", connection.Protocol);
        Assert.True(connection.IsUnixSocket);
        Assert.Equal(Environment.ProcessId, connection.UnixPeer!.ProcessId);
        Assert.Equal(IPAddress.None, connection.RemoteAddress);
        Assert.Equal(0, connection.RemotePort);
        Assert.Equal(peer, connection.Remote);
        Assert.Equal(peer, connection.RemoteAddressText);
        Assert.Equal("unix:" + SocketPath, connection.LocalAddressText);
        Assert.Equal($"unix unix:{SocketPath} <- {peer}", connection.ToString());
        Assert.Equal("hi", message.Text);
    }

    [Fact]
    public async Task SocketFileHasTheConfiguredModeAndIsRemovedAtStop()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // no file modes
        }

        var server = new TalkServer(OnUnixSocket(o => o.UnixSocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite), MessageSinks.None);
        await server.StartAsync();
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(SocketPath));
        await server.DisposeAsync();
        Assert.False(File.Exists(SocketPath));
    }

    [Fact]
    public void UnixSocketModeDefaultsToOwnerAndGroup()
    {
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, new TalkServerOptions().UnixSocketMode);
    }

    [Fact]
    public void UnixSocketModeBeyondPermissionBitsIsRefused()
    {
        var options = new TalkServerOptions { UnixSocketMode = UnixFileMode.SetUser | UnixFileMode.UserRead };
        Assert.Contains(options.FindProblems(), p => p.Message.Contains("UnixSocketMode", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StaleSocketFileNobodyListensOnIsReplaced()
    {
        // A server that was killed leaves its file behind. .NET removes the file of a socket it bound when the socket
        // is closed, so the file is moved out of its way first.
        string aside = SocketPath + ".aside";
        using (var killed = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            killed.Bind(new UnixDomainSocketEndPoint(SocketPath));
            File.Move(SocketPath, aside);
        }

        File.Move(aside, SocketPath);

        Assert.True(File.Exists(SocketPath));
        await using var server = new TalkServer(OnUnixSocket(), MessageSinks.None);
        await server.StartAsync();
        using var client = await ConnectAsync();
        Assert.StartsWith("Welcome unix", await Loopback.ReadAsync(client, frames: 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SocketFileAnotherServerListensOnIsRefusedAndLeftAlone()
    {
        using var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        live.Bind(new UnixDomainSocketEndPoint(SocketPath));
        live.Listen();

        await using var server = new TalkServer(OnUnixSocket(), MessageSinks.None);
        var error = await Assert.ThrowsAsync<ListenException>(() => server.StartAsync());
        Assert.Equal($"unix:{SocketPath} is already in use: another server listens on it", error.Message);
        using var stillServed = await ConnectAsync(); // the other server's socket still answers
    }

    [Fact]
    public async Task RegularFileAtTheSocketPathIsRefusedAndKept()
    {
        await File.WriteAllTextAsync(SocketPath, "not a socket");
        await using var server = new TalkServer(OnUnixSocket(), MessageSinks.None);
        var error = await Assert.ThrowsAsync<ListenException>(() => server.StartAsync());
        Assert.Equal($"unix:{SocketPath} exists and is not a socket; remove it or choose another path", error.Message);
        Assert.Equal("not a socket", await File.ReadAllTextAsync(SocketPath));
    }

    [Fact]
    public async Task AllowListDoesNotApplyToUnixPeers()
    {
        var options = OnUnixSocket(o =>
        {
            o.Allow.Add(System.Net.IPNetwork.Parse("10.0.0.0/8"));
            o.MaxConnectionsPerAddress = 1;
        });
        await using var server = new TalkServer(options, MessageSinks.None);
        await server.StartAsync();
        using var first = await ConnectAsync();
        using var second = await ConnectAsync();
        Assert.StartsWith("Welcome unix", await Loopback.ReadAsync(first, frames: 1), StringComparison.Ordinal);
        Assert.StartsWith("Welcome unix", await Loopback.ReadAsync(second, frames: 1), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxConnectionsAppliesToUnixPeers()
    {
        await using var server = new TalkServer(OnUnixSocket(o => o.MaxConnections = 1), MessageSinks.None);
        await server.StartAsync();
        using var first = await ConnectAsync();
        Assert.StartsWith("Welcome unix", await Loopback.ReadAsync(first, frames: 1), StringComparison.Ordinal);
        using var second = await ConnectAsync();
        Assert.Equal("error: server busy: 1 connections open (the limit); try again later\0", await Loopback.ReadAsync(second));
    }

    [Fact]
    public async Task UnixAndTcpListenersServeSideBySide()
    {
        var options = OnUnixSocket(o => o.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0)));
        await using var server = new TalkServer(options, MessageSinks.None);
        await server.StartAsync();
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await tcp.ConnectAsync(server.BoundEndpoints[0]);
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(tcp, frames: 1));
        using var unix = await ConnectAsync();
        Assert.StartsWith("Welcome unix", await Loopback.ReadAsync(unix, frames: 1), StringComparison.Ordinal);
    }
}
