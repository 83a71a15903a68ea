using System.Net.Sockets;
using System.Text;

namespace TcpTalk.Server.Tests;

/// <summary>Bounded helpers for tests that talk to a server over loopback sockets.</summary>
internal static class Loopback
{
    /// <summary>Reads (ASCII) until the server closes, or until <paramref name="frames"/> NUL-terminated frames arrived.</summary>
    public static async Task<string> ReadAsync(Socket socket, int frames = -1)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var all = new List<byte>();
        var buffer = new byte[1024];
        int n;
        while ((frames < 0 || all.Count(b => b == 0) < frames) && (n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
        {
            all.AddRange(buffer.AsSpan(0, n));
        }

        return Encoding.ASCII.GetString([.. all]);
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after <paramref name="timeout"/> (10 s).</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not reached in time");
            await Task.Delay(20);
        }
    }

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
