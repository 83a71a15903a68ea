using System.Net.Sockets;
using System.Text;

namespace TcpTalk.Server.Tests;

/// <summary>Bounded helpers for tests that talk to a server over loopback sockets.</summary>
internal static class Loopback
{
    /// <summary>Reads (ASCII) until the server closes, or until <paramref name="frames"/> NUL-terminated frames arrived.</summary>
    public static async Task<string> ReadAsync(Socket socket, int frames = -1) =>
        Encoding.ASCII.GetString(frames < 0 ? await socket.ReadToEndAsync() : await socket.ReadFramesAsync(frames));

    /// <summary>True when nothing arrives and the server does not close <paramref name="socket"/> within 300 ms.</summary>
    public static async Task<bool> StaysOpenAsync(Socket socket)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        try
        {
            await socket.ReceiveAsync(new byte[1], SocketFlags.None, cts.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }
}
