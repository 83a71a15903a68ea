using System.Buffers;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// Everything the server sends on one connection: the greeting, acknowledgements, and the error line before a close.
/// Every send is expected to complete at once; one that does not is watched by the write timeout.
/// </summary>
internal sealed class ConnectionWriter(ConnectionTransport transport, MessageFramer framer, ConnectionDeadlines deadlines, TimeProvider time)
{
    /// <summary>Sends <c>Welcome &lt;client-ip&gt;!</c> (the configured template), framed: its terminator or length header.</summary>
    public async ValueTask SendGreetingAsync(GreetingTemplate greeting, ConnectionInfo info)
    {
        // Formatted behind room for the header, then framed in place (the framer moves the text behind its header).
        int room = MessageFramer.MaxFrameOverheadBytes;
        byte[] frame = ArrayPool<byte>.Shared.Rent(room + greeting.MaxFormattedBytes + room);
        try
        {
            int text = info.IsUnixSocket
                ? greeting.Format(info.RemoteAddressText, info.RemotePort, frame.AsSpan(room))
                : greeting.Format(info.RemoteAddress, info.RemotePort, frame.AsSpan(room));
            int length = framer.WriteFrameInto(frame.AsSpan(room, text), frame);
            await SendAllAsync(frame.AsMemory(0, length)).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    /// <summary>Sends <c>ack &lt;id&gt;</c> for ids <paramref name="firstId"/> .. firstId + count - 1, in one send.</summary>
    public async ValueTask SendAcksAsync(long firstId, int count)
    {
        byte[] frames = ArrayPool<byte>.Shared.Rent(count * ServerReply.MaxAckFrameBytes);
        try
        {
            int length = 0;
            for (int i = 0; i < count; i++)
            {
                length += ServerReply.WriteAck(firstId + i, framer, frames.AsSpan(length));
            }

            await SendAllAsync(frames.AsMemory(0, length)).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frames);
        }
    }

    /// <summary>Sends <c>error: &lt;sentence&gt;</c>, then half-closes (TLS: close_notify first).</summary>
    public async ValueTask SendErrorAndShutdownAsync(string sentence)
    {
        var frame = new ArrayBufferWriter<byte>(128);
        ServerReply.WriteError(sentence, framer, frame);
        await SendAllAsync(frame.WrittenMemory).ConfigureAwait(false);
        await WatchSendAsync(transport.ShutdownSendAsync()).ConfigureAwait(false);
    }

    private ValueTask SendAllAsync(ReadOnlyMemory<byte> data) => WatchSendAsync(transport.SendAsync(data));

    private async ValueTask WatchSendAsync(ValueTask sending)
    {
        // Usually the frame fits the send buffer and the send has completed already: no async machinery.
        if (sending.IsCompletedSuccessfully)
        {
            sending.GetAwaiter().GetResult();
            return;
        }

        // The client is not reading: wait, watched by the write timeout. Reading stops meanwhile, so at most this
        // one send is queued per connection.
        deadlines.SendStarted(time.GetTimestamp());
        try
        {
            await sending.ConfigureAwait(false);
        }
        finally
        {
            deadlines.SendEnded();
        }
    }
}
