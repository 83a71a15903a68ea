using System.Diagnostics;
using TcpTalk.Protocol;

namespace TcpTalk.Load;

/// <summary>
/// Stream mode with acknowledgements (<see cref="BenchOptions.Acknowledged"/>): each connection writes messages back
/// to back but keeps at most <see cref="BenchOptions.AckWindow"/> of them unacknowledged, and times each
/// <c>ack &lt;id&gt;</c> from the write that carried its message.
/// </summary>
internal sealed partial class BenchRun
{
    private async Task RunAckedStreamAsync(LoadSlot slot, long? quota)
    {
        int frameBytes = _options.FrameBytes;
        int window = _options.AckWindow;
        int perBuffer = _streamBuffer.Length / frameBytes;
        long limit = quota ?? long.MaxValue;
        var acks = new AckWindow(window);
        long sent = 0;
        Task? reader = null;
        long start = Stopwatch.GetTimestamp();
        try
        {
            var stream = await ConnectAsync(slot, start).ConfigureAwait(false);
            ReleaseWindow(slot);
            reader = ReadAcksAsync(slot, stream, acks);
            slot.SetDeadline(Clock.StepDeadline());
            while (!Stopping && sent < limit && !reader.IsCompleted)
            {
                long room = acks.Acked + window - sent;
                if (room <= 0)
                {
                    // The window is full: wait for acks (the step deadline turns a server that never acks into a timeout).
                    await acks.WaitAsync(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
                    continue;
                }

                int first = (int)(sent % perBuffer);
                int count = (int)Math.Min(Math.Min(room, perBuffer - first), limit - sent);
                long now = Stopwatch.GetTimestamp();
                for (int i = 0; i < count; i++)
                {
                    acks.SentAt[(sent + i) % window] = now;
                }

                await stream.WriteAsync(_streamBuffer.AsMemory(first * frameBytes, count * frameBytes), CancellationToken.None).ConfigureAwait(false);
                sent += count;
                Counters.Wrote((long)count * frameBytes);
                slot.SetDeadline(Clock.StepDeadline());
            }

            // The last acks come before the server's close: wait for them within the drain time, then half-close.
            slot.SetDeadline(Stopwatch.GetTimestamp() + RunClock.Ticks(_options.DrainTimeout));
            while (acks.Acked < sent && !reader.IsCompleted)
            {
                await acks.WaitAsync(TimeSpan.FromMilliseconds(100)).ConfigureAwait(false);
            }

            slot.HalfClosed = true;
            await HalfCloseAsync(slot, stream).ConfigureAwait(false);
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
            await EndStreamAsync(slot, reader, sent, sent * frameBytes).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Counts every <c>ack</c> frame the server sends until it closes and records its latency; any other frame (an
    /// <c>error:</c> line) is counted as <see cref="BenchErrorKind.Closed"/> when the close follows. A close before this
    /// side half-closed is <see cref="BenchErrorKind.Closed"/> too.
    /// </summary>
    private async Task ReadAcksAsync(LoadSlot slot, Stream stream, AckWindow acks)
    {
        var framer = new MessageFramer(_options.Framing, 4096);
        byte[] buffer = new byte[64 * 1024];
        int end = 0;
        try
        {
            while (true)
            {
                int read = await stream.ReadAsync(buffer.AsMemory(end), CancellationToken.None).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                end += read;
                int start = 0;
                long now = Stopwatch.GetTimestamp();
                int acked = 0;
                while (framer.TryReadMessage(buffer.AsSpan(start, end - start), out int at, out int length, out int frame))
                {
                    if (buffer.AsSpan(start + at, length).StartsWith("ack "u8))
                    {
                        long sentAt = acks.SentAt[(acks.Acked + acked) % acks.SentAt.Length];
                        Counters.Acknowledged(now - sentAt);
                        acked++;
                    }

                    start += frame;
                }

                acks.Add(acked);
                buffer.AsSpan(start, end - start).CopyTo(buffer);
                end -= start;
            }
        }
        finally
        {
            acks.Add(0); // wake the writer: nothing more comes
        }

        if (!slot.HalfClosed)
        {
            slot.Abort((int)BenchErrorKind.Closed);
            throw new BenchFailureException(BenchErrorKind.Closed);
        }
    }

    /// <summary>One connection's acknowledgement window: when each unacknowledged message went out, and how many came back.</summary>
    private sealed class AckWindow(int size)
    {
        private readonly SemaphoreSlim _signal = new(0);
        private long _acked;

        /// <summary>The write time (timestamp) of message <c>i</c>, at <c>i % size</c>.</summary>
        public long[] SentAt { get; } = new long[size];

        /// <summary>Messages acknowledged so far (acks come in sending order).</summary>
        public long Acked => Volatile.Read(ref _acked);

        public void Add(int count)
        {
            Interlocked.Add(ref _acked, count);
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }

        public Task WaitAsync(TimeSpan timeout) => _signal.WaitAsync(timeout);
    }
}
