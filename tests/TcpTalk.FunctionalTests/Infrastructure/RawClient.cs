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
    public async Task<byte[]> ReadFrameAsync(byte terminator = 0, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var frame = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            int n = await _socket.ReceiveAsync(one, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                throw new EndOfStreamException($"connection closed after {frame.Count} byte(s) of a frame");
            }

            if (one[0] == terminator)
            {
                return [.. frame];
            }

            frame.Add(one[0]);
        }
    }

    /// <summary>Reads until the server closes; returns everything read. Throws on timeout.</summary>
    public async Task<byte[]> ReadToEndAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var all = new List<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                return [.. all];
            }

            all.AddRange(buffer.AsSpan(0, n));
        }
    }

    public void HalfClose() => _socket.Shutdown(SocketShutdown.Send);

    public void Dispose() => _socket.Dispose();
}
