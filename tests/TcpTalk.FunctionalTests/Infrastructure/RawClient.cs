using System.Net;
using System.Net.Sockets;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>A bare socket client for byte-exact tests: the test decides every byte and every write boundary.</summary>
public sealed class RawClient : IDisposable
{
    private readonly Socket _socket;

    private RawClient(Socket socket) => _socket = socket;

    public Socket Socket => _socket;

    public static async Task<RawClient> ConnectAsync(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(endpoint, cts.Token);
        return new RawClient(socket);
    }

    public async Task SendAsync(byte[] bytes) => await _socket.SendAsync(bytes, SocketFlags.None);

    /// <summary>Reads until <paramref name="terminator"/> (inclusive) and returns the bytes before it.</summary>
    public Task<byte[]> ReadFrameAsync(byte terminator = 0, TimeSpan? timeout = null) => _socket.ReadFrameAsync(terminator, timeout);

    /// <summary>Reads until the server closes; returns everything read. Throws on timeout.</summary>
    public Task<byte[]> ReadToEndAsync(TimeSpan? timeout = null) => _socket.ReadToEndAsync(timeout);

    public void HalfClose() => _socket.Shutdown(SocketShutdown.Send);

    public void Dispose() => _socket.Dispose();
}
