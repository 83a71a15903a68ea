using System.Net.Sockets;
using System.Text;
using TcpTalk.Client;

namespace TcpTalk.Client.Tests;

/// <summary>TalkClient to <c>unix:/path</c>: connects by path, reads the greeting, sends; failures name the socket.</summary>
public sealed class UnixSocketTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tcptalk-client-unix-").FullName;

    private string SocketPath => Path.Combine(_directory, "s.sock");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ClientConnectsToAUnixSocketByPathAndSends()
    {
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        listener.Listen();
        var server = Task.Run(async () =>
        {
            using var peer = await listener.AcceptAsync();
            await peer.SendAsync("Welcome unix!\0"u8.ToArray(), SocketFlags.None);
            var received = new List<byte>();
            var buffer = new byte[256];
            int n;
            while ((n = await peer.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                received.AddRange(buffer.AsSpan(0, n).ToArray());
            }

            return Encoding.ASCII.GetString([.. received]);
        });

        await using (var client = await TalkClient.ConnectAsync("unix:" + SocketPath).Bounded())
        {
            Assert.Equal("Welcome unix!", client.Greeting);
            Assert.Equal(SocketPath, Assert.IsType<UnixDomainSocketEndPoint>(client.RemoteEndPoint).ToString());
            await client.SendAsync("over unix").Bounded();
            await client.CompleteAsync().Bounded();
        }

        Assert.Equal("over unix\0", await server.Bounded());
    }

    [Fact]
    public async Task MissingSocketFileIsAConnectFailureNamingIt()
    {
        var error = await Assert.ThrowsAsync<ConnectFailedException>(() => TalkClient.ConnectAsync("unix:" + SocketPath).Bounded());
        Assert.Equal($"could not connect to unix:{SocketPath}: no such socket file", error.Message);
    }

    [Fact]
    public async Task SocketNobodyListensOnIsRefused()
    {
        string aside = SocketPath + ".aside";
        using (var gone = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            gone.Bind(new UnixDomainSocketEndPoint(SocketPath));
            File.Move(SocketPath, aside); // .NET removes the file of a socket it bound when closing it
        }

        File.Move(aside, SocketPath);
        var error = await Assert.ThrowsAsync<ConnectFailedException>(() => TalkClient.ConnectAsync("unix:" + SocketPath).Bounded());
        Assert.Equal($"connection refused by unix:{SocketPath} (no server listens on that socket?)", error.Message);
        Assert.Equal(SocketError.ConnectionRefused, error.Error);
    }
}
