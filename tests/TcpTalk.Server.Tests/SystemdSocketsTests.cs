using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using TcpTalk.Server;

namespace TcpTalk.Server.Tests;

/// <summary>systemd socket activation: the LISTEN_* variables, and inherited descriptors wrapped as working sockets.</summary>
public sealed class SystemdSocketsTests
{
    [Fact]
    public void DescriptorsStartAtThreeAndTakeTheirNames() =>
        Assert.Equal([(3, "tcptalk"), (4, "tls")], SystemdSockets.Parse("42", "2", "tcptalk:tls", processId: 42));

    [Theory]
    [InlineData("42", "2", null)]          // no names
    [InlineData("42", "2", "only-one")]    // a count that does not match
    public void MissingNamesAreUnknown(string pid, string fds, string? names) =>
        Assert.Equal([(3, "unknown"), (4, "unknown")], SystemdSockets.Parse(pid, fds, names, processId: 42));

    [Theory]
    [InlineData(null, null)]      // not socket-activated
    [InlineData("41", "1")]       // meant for another process (inherited from a parent)
    [InlineData("x", "1")]
    [InlineData("42", "")]
    [InlineData("42", "0")]
    public void NoDescriptorsWhenNotMeantForThisProcess(string? pid, string? fds) =>
        Assert.Empty(SystemdSockets.Parse(pid, fds, null, processId: 42));

    [Fact]
    public void AGarbledCountIsAnError() =>
        Assert.Throws<FormatException>(() => SystemdSockets.Parse("42", "two", null, processId: 42));

    [Fact]
    public void TakeWithoutTheVariablesReturnsNothing()
    {
        Assert.Null(Environment.GetEnvironmentVariable("LISTEN_FDS"));
        Assert.Empty(SystemdSockets.Take());
    }

    [Fact]
    public async Task AnInheritedListeningDescriptorAcceptsConnections()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // descriptors are inherited this way on Linux only; Take() returns nothing elsewhere (tested above)
        }

        using var original = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        original.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        original.Listen();
        int copy = Dup((int)original.Handle); // what systemd does: the same listening socket under another number
        Assert.True(copy > 2, $"dup failed: {Marshal.GetLastPInvokeError()}");

        var inherited = Assert.Single(SystemdSockets.Wrap([(copy, "tcptalk")]));
        using var listener = inherited.Socket;
        Assert.Equal("tcptalk", inherited.Name);
        Assert.Equal(original.LocalEndPoint, listener.LocalEndPoint);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(original.LocalEndPoint!);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        using var accepted = await listener.AcceptAsync(cts.Token);
        Assert.Equal(client.LocalEndPoint, accepted.RemoteEndPoint);
    }

    [DllImport("libc", EntryPoint = "dup", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Dup(int descriptor);
}
