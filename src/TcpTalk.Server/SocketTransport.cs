using System.Net.Sockets;

namespace TcpTalk.Server;

/// <summary>
/// Plain TCP: the accepted socket, non-blocking. Waiting is a zero-byte receive, draining is non-blocking receives
/// until the socket would block, sending is one non-blocking send (async only for what did not fit). Nothing here
/// allocates per message.
/// </summary>
internal sealed class SocketTransport(Socket socket) : ConnectionTransport
{
    public override ValueTask StartAsync()
    {
        socket.Blocking = false;
        return default;
    }

    public override ValueTask<int> WaitForDataAsync(CancellationToken cancellationToken) =>
        socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken);

    public override ValueTask<int> ReceiveAvailableAsync(Memory<byte> buffer)
    {
        int received = socket.Receive(buffer.Span, SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            return new(NothingAvailable);
        }

        if (error != SocketError.Success)
        {
            throw new SocketException((int)error);
        }

        return new(received);
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data)
    {
        // Usually the whole frame fits the socket's send buffer: one non-blocking send, no async machinery.
        int sent = socket.Send(data.Span, SocketFlags.None, out var error);
        if (error is not (SocketError.Success or SocketError.WouldBlock))
        {
            throw new SocketException((int)error);
        }

        data = data[Math.Max(sent, 0)..];
        return data.IsEmpty ? default : SendRestAsync(data);
    }

    private async ValueTask SendRestAsync(ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    public override ValueTask ShutdownSendAsync()
    {
        socket.Shutdown(SocketShutdown.Send);
        return default;
    }

    public override void Close() => socket.Dispose();
}
