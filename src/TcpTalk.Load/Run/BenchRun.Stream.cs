using System.Diagnostics;
using System.Text.Unicode;
using TcpTalk.Protocol;

namespace TcpTalk.Load;

/// <summary>Stream mode: each connection writes messages back to back, then half-closes and drains.</summary>
internal sealed partial class BenchRun
{
    /// <summary>About this many bytes of ready-made messages, written in slices: one write is at most this long.</summary>
    private const int StreamBufferBytes = 256 * 1024;

    private readonly byte[] _streamBuffer;

    /// <summary>
    /// Messages <c>s0-&lt;k&gt;</c> padded with <c>x</c>, each framed (its terminator, or its length header first),
    /// back to back (tcpload's), built once and shared read-only by every connection.
    /// </summary>
    private static byte[] BuildStreamBuffer(BenchOptions options)
    {
        int length = options.FrameBytes;
        int overhead = length - options.MessageBytes;
        var framer = new MessageFramer(options.Framing, options.MessageBytes);
        int count = Math.Max(16, StreamBufferBytes / length);
        byte[] buffer = new byte[count * length];
        for (int k = 0; k < count; k++)
        {
            // The text goes behind the frame's overhead and is framed in place (moved to the front when delimited).
            var frame = buffer.AsSpan(k * length, length);
            var message = frame.Slice(overhead, options.MessageBytes);
            message.Fill((byte)'x');
            Utf8.TryWrite(message, $"s0-{k}", out _);
            framer.WriteFrameInto(message, frame);
        }

        return buffer;
    }

    /// <summary>This connection's share of <see cref="BenchOptions.Messages"/> (the first ones take the remainder); null: no limit.</summary>
    private long? StreamQuota(int index) =>
        _options.Messages is { } total ? (total / _slots.Length) + (index < total % _slots.Length ? 1 : 0) : null;

    private async Task RunStreamAsync(LoadSlot slot, long? quota)
    {
        int messageLength = _options.FrameBytes;
        long limit = quota is { } messages ? messages * messageLength : long.MaxValue;
        long written = 0;
        Task? reader = null;
        long start = Stopwatch.GetTimestamp();
        try
        {
            var stream = await ConnectAsync(slot, start).ConfigureAwait(false);
            ReleaseWindow(slot);
            reader = DiscardWhileStreamingAsync(slot, stream);
            while (!Stopping && written < limit)
            {
                // Every write is whole messages, so stopping between writes finishes the current message (tcpload's rule).
                int offset = (int)(written % _streamBuffer.Length);
                int length = (int)Math.Min(_streamBuffer.Length - offset, limit - written);
                slot.SetDeadline(Clock.StepDeadline());
                await stream.WriteAsync(_streamBuffer.AsMemory(offset, length), CancellationToken.None).ConfigureAwait(false);
                written += length;
                Counters.Wrote(length);
            }

            slot.HalfClosed = true;
            await HalfCloseAsync(slot, stream).ConfigureAwait(false);
            slot.SetDeadline(Stopwatch.GetTimestamp() + RunClock.Ticks(_options.DrainTimeout));
            await reader.ConfigureAwait(false);
            Counters.Close(Stopwatch.GetTimestamp());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            if (Classify(e, slot) is { } kind)
            {
                Counters.Fail(kind);
            }
        }
        finally
        {
            await EndStreamAsync(slot, reader, written / messageLength, written).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The end of one streaming connection, plain or acknowledged, however it ended: its window slot given back, what
    /// it sent counted, the slot detached, and its reader awaited (its failure was counted where it happened).
    /// </summary>
    private async Task EndStreamAsync(LoadSlot slot, Task? reader, long messages, long bytes)
    {
        ReleaseWindow(slot);
        Counters.Sent(messages, bytes);
        slot.Detach();
        if (reader is not null)
        {
            await reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// Throws away whatever the server sends while messages go out (acks, say) until it closes; a close before this side
    /// half-closed is <see cref="BenchErrorKind.Closed"/> and stops the writer too.
    /// </summary>
    private async Task DiscardWhileStreamingAsync(LoadSlot slot, Stream stream)
    {
        await DiscardToEndAsync(stream).ConfigureAwait(false);
        if (!slot.HalfClosed)
        {
            slot.Abort((int)BenchErrorKind.Closed);
            throw new BenchFailureException(BenchErrorKind.Closed);
        }
    }
}
