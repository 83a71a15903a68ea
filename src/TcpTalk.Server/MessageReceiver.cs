using System.Buffers;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// The receive loop of one connection: reads, frames, and hands each read's messages on (journal, sink,
/// acknowledgements) until the client half-closes or the server asks it to stop.
/// </summary>
/// <remarks>
/// An idle connection owns no buffer: it waits with a zero-byte receive, which completes when data (or EOF)
/// arrives. Only then is a pooled buffer rented and drained with non-blocking receives until the socket would
/// block, parsing complete messages after every receive and handing each read's messages on as one batch. Bytes
/// of a message not yet complete stay at the front of the buffer; once everything is consumed the buffer goes back
/// to the pool. So memory per idle connection is the socket and its handler's few objects, and memory per busy
/// connection is bounded by <see cref="MessageFramer.MaxFrameBytes"/>.
/// </remarks>
internal sealed class MessageReceiver(
    ConnectionContext context, ConnectionInfo info, ConnectionTransport transport, ConnectionWriter writer, ConnectionDeadlines deadlines)
{
    private const int InitialBufferBytes = 16 * 1024;
    private const int ReadsBeforeYield = 16; // fairness: a busy stream lets accepts and other connections run

    private readonly MessageFramer _framer = context.Framer;
    private (int Start, int Length)[] _ranges = [];
    private volatile bool _stopping;

    /// <summary>Complete messages handed on so far.</summary>
    public long Messages { get; private set; }

    /// <summary>Bytes received so far.</summary>
    public long Bytes { get; private set; }

    /// <summary>Asks the loop to end at the next message boundary (at once if it is idle).</summary>
    public void RequestStop() => _stopping = true;

    /// <summary>Reads until EOF or a stop request; returns why the connection ends.</summary>
    public async Task<string> ReceiveAsync()
    {
        byte[]? buffer = null;
        int start = 0, end = 0;
        try
        {
            while (true)
            {
                if (start == end)
                {
                    if (buffer is not null)
                    {
                        ReturnBuffers(ref buffer);
                        start = end = 0;
                    }

                    if (_stopping)
                    {
                        return "server stopped";
                    }

                    // Idle: no bytes held, so a stop may cut this wait short.
                    await transport.WaitForDataAsync(context.Stopping).ConfigureAwait(false);
                }
                else
                {
                    // Mid-message: finish it even while stopping; ShutdownTimeout aborts us if it never ends.
                    await transport.WaitForDataAsync(CancellationToken.None).ConfigureAwait(false);
                }

                deadlines.ThrowIfExpired();
                buffer ??= ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
                int reads = 0;
                while (true)
                {
                    if (end == buffer.Length)
                    {
                        MakeRoom(ref buffer, ref start, ref end);
                    }

                    int received = await transport.ReceiveAvailableAsync(buffer.AsMemory(end)).ConfigureAwait(false);
                    if (received == ConnectionTransport.NothingAvailable)
                    {
                        break;
                    }

                    if (received == 0)
                    {
                        deadlines.ThrowIfExpired(); // our own shutdown, not the client's: the tail is a cut-off message
                        await DeliverTailAsync(buffer, start, end).ConfigureAwait(false);
                        start = end;
                        return "client closed";
                    }

                    Bytes += received;
                    end += received;
                    start = await DeliverAsync(buffer, start, end).ConfigureAwait(false);
                    if (start == end)
                    {
                        start = end = 0;
                        if (_stopping)
                        {
                            return "server stopped";
                        }
                    }

                    if (++reads == ReadsBeforeYield)
                    {
                        reads = 0;
                        await Task.Yield();
                    }
                }
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ReturnBuffers(ref buffer);
            }
        }
    }

    /// <summary>
    /// Parses every complete message in buffer[start..end), hands them on, returns the new start. A frame the framer
    /// refuses (too long, a malformed length header) ends the connection, but only after the complete messages that
    /// came before it in the same read are handed on: a whole message is never lost to what follows it.
    /// </summary>
    private async ValueTask<int> DeliverAsync(byte[] buffer, int start, int end)
    {
        int count = 0;
        ProtocolException? refused = null;
        try
        {
            while (_framer.TryReadMessage(buffer.AsSpan(start, end - start), out int at, out int length, out int frame))
            {
                if (count == _ranges.Length)
                {
                    GrowRanges();
                }

                _ranges[count++] = (start + at, length);
                start += frame;
            }
        }
        catch (ProtocolException e)
        {
            refused = e;
        }

        long now = context.TimeProvider.GetTimestamp();
        if (count > 0)
        {
            deadlines.MessagesCompleted(now, partialFollows: start < end);
            await HandOnAsync(buffer, count).ConfigureAwait(false);
        }
        else if (start < end)
        {
            deadlines.PartialMessageSeen(now);
        }

        if (refused is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(refused);
        }

        return start;
    }

    private async ValueTask DeliverTailAsync(byte[] buffer, int start, int end)
    {
        // Clean EOF after an unterminated tail: the client finished sending, so the tail is a whole message
        // (docs/PROTOCOL.md). A reset never gets here, so a cut-off message is never delivered. In a length-prefixed
        // framing a tail is a frame cut short: the framer throws MalformedFrameException, which refuses the connection.
        if (_framer.TryReadFinalMessage(buffer.AsSpan(start, end - start), out int length))
        {
            if (_ranges.Length == 0)
            {
                GrowRanges();
            }

            _ranges[0] = (start, length);
            await HandOnAsync(buffer, 1).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Hands one read's messages on, in the order that makes "stored" mean something: the journal commits them first
    /// (waiting here is the backpressure: this connection reads nothing more meanwhile), only then are they given to
    /// the sink and acknowledged. A journal failure propagates and closes this connection without acknowledging
    /// anything. Journal and sink get the server's abort token: a stop that gives up waiting cancels them.
    /// </summary>
    private async ValueTask HandOnAsync(byte[] buffer, int count)
    {
        var metrics = context.Metrics;
        var batch = new MessageBatch(info, context.TimeProvider.GetUtcNow(), context.Encoding, buffer, _ranges.AsMemory(0, count));
        if (context.Journal is { } journal)
        {
            long started = metrics.TimesCommits ? context.TimeProvider.GetTimestamp() : 0;
            long first = await journal.AppendAsync(batch, context.Aborting).ConfigureAwait(false);
            batch = batch with { FirstJournalId = first };
            if (started != 0)
            {
                metrics.Committed(context.TimeProvider.GetElapsedTime(started));
            }
        }

        Messages += count;
        metrics.Received(batch);
        await context.Sink.OnMessagesAsync(batch, context.Aborting).ConfigureAwait(false);
        if (context.Acknowledge)
        {
            await writer.SendAcksAsync(batch.FirstJournalId, count).ConfigureAwait(false);
            metrics.AcksSent(count);
        }
    }

    private void MakeRoom(ref byte[] buffer, ref int start, ref int end)
    {
        if (start > 0)
        {
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
            return;
        }

        // A message longer than the buffer: grow, never past one frame (the framer throws before that).
        int size = (int)Math.Min((long)buffer.Length * 2, _framer.MaxFrameBytes);
        byte[] bigger = ArrayPool<byte>.Shared.Rent(size);
        buffer.AsSpan(0, end).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        buffer = bigger;
    }

    private void GrowRanges()
    {
        var bigger = ArrayPool<(int, int)>.Shared.Rent(Math.Max(16, _ranges.Length * 2));
        _ranges.CopyTo(bigger, 0);
        if (_ranges.Length > 0)
        {
            ArrayPool<(int, int)>.Shared.Return(_ranges);
        }

        _ranges = bigger;
    }

    private void ReturnBuffers(ref byte[]? buffer)
    {
        ArrayPool<byte>.Shared.Return(buffer!);
        buffer = null;
        if (_ranges.Length > 0)
        {
            ArrayPool<(int, int)>.Shared.Return(_ranges);
            _ranges = [];
        }
    }
}
