using System.Net.Sockets;

namespace TcpTalk.TestSupport;

/// <summary>
/// Reads from a raw loopback socket the way a test checks a peer's bytes, each read bounded in time (10 s unless
/// told): a peer that neither sends nor closes fails the test with what it waited for and what had arrived.
/// </summary>
internal static class SocketReads
{
    /// <summary>How long one read helper waits unless the caller says otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Reads until the peer closes its side (a reset is an error); returns every byte read.</summary>
    public static Task<byte[]> ReadToEndAsync(this Socket socket, TimeSpan? timeout = null) =>
        ReadAsync(socket, "the peer to close", stopAtFrames: -1, resetIsClose: false, timeout);

    /// <summary>Reads until the peer closes or resets the connection; returns every byte read before that.</summary>
    public static Task<byte[]> ReadUntilClosedAsync(this Socket socket, TimeSpan? timeout = null) =>
        ReadAsync(socket, "the peer to close or reset", stopAtFrames: -1, resetIsClose: true, timeout);

    /// <summary>
    /// Reads until <paramref name="frames"/> NUL-terminated frames have arrived or the peer closes; returns the bytes,
    /// terminators included.
    /// </summary>
    public static Task<byte[]> ReadFramesAsync(this Socket socket, int frames, TimeSpan? timeout = null) =>
        ReadAsync(socket, $"{frames} NUL-terminated frame(s) or the peer to close", frames, resetIsClose: false, timeout);

    /// <summary>
    /// Reads one frame ended by <paramref name="terminator"/> (NUL unless told), byte by byte so nothing after it is
    /// consumed; returns it without the terminator. Fails when the peer closes first.
    /// </summary>
    public static async Task<byte[]> ReadFrameAsync(this Socket socket, byte terminator = 0, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        using var stop = new CancellationTokenSource(limit);
        var frame = new List<byte>();
        var one = new byte[1];
        try
        {
            while (true)
            {
                if (await socket.ReceiveAsync(one, SocketFlags.None, stop.Token) == 0)
                {
                    throw new EndOfStreamException($"the peer closed before the terminator ended the frame; it sent {Show(frame)}");
                }

                if (one[0] == terminator)
                {
                    return [.. frame];
                }

                frame.Add(one[0]);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw new TimeoutException($"no complete frame within {limit.TotalSeconds:0.###} s; it sent {Show(frame)}");
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes; fails when the peer closes first.</summary>
    public static async Task<byte[]> ReadExactlyAsync(this Socket socket, int count, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        using var stop = new CancellationTokenSource(limit);
        var buffer = new byte[count];
        int read = 0;
        try
        {
            while (read < count)
            {
                int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, stop.Token);
                if (n == 0)
                {
                    throw new EndOfStreamException($"peer closed after {read} of {count} bytes");
                }

                read += n;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw new TimeoutException($"only {read} of {count} bytes within {limit.TotalSeconds:0.###} s");
        }

        return buffer;
    }

    private static async Task<byte[]> ReadAsync(Socket socket, string what, int stopAtFrames, bool resetIsClose, TimeSpan? timeout)
    {
        var limit = timeout ?? DefaultTimeout;
        using var stop = new CancellationTokenSource(limit);
        var received = new List<byte>();
        var buffer = new byte[4096];
        try
        {
            while (stopAtFrames < 0 || received.Count(b => b == 0) < stopAtFrames)
            {
                int n = await socket.ReceiveAsync(buffer, SocketFlags.None, stop.Token);
                if (n == 0)
                {
                    break;
                }

                received.AddRange(buffer.AsSpan(0, n));
            }
        }
        catch (SocketException e) when (resetIsClose && e.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            throw new TimeoutException($"waited {limit.TotalSeconds:0.###} s for {what}; it sent {Show(received)}");
        }

        return [.. received];
    }

    private static string Show(List<byte> bytes) =>
        bytes.Count == 0 ? "nothing" : $"{bytes.Count} bytes \"{System.Text.Encoding.ASCII.GetString([.. bytes]).Replace("\0", "\\0")}\"";
}
