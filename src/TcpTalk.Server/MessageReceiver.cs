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
    private readonly CommitPipeline? _pipeline = context.Journal is null ? null : new CommitPipeline(context, info, writer);
    private (int Start, int Length)[] _ranges = [];
    private long _direct;
    private volatile bool _stopping;

    /// <summary>Complete messages handed on so far.</summary>
    public long Messages => HandedOn;

    /// <summary>Bytes received so far.</summary>
    public long Bytes { get; private set; }

    /// <summary>Asks the loop to end at the next message boundary (at once if it is idle).</summary>
    public void RequestStop() => _stopping = true;

    /// <summary>Reads until EOF or a stop request; returns why the connection ends.</summary>
    /// <remarks>
    /// With a journal, a read's messages are handed to a <see cref="CommitPipeline"/> and reading goes on while they
    /// are committed; whatever ends the connection, what was read before it is handed on first (a journal failure
    /// excepted: then nothing more is), and no buffer the journal may still read is given back before its append ends.
    /// </remarks>
    public async Task<string> ReceiveAsync()
    {
        try
        {
            string reason = await ReceiveCoreAsync().ConfigureAwait(false);
            await DrainAsync().ConfigureAwait(false);
            return reason;
        }
        catch (Exception e) when (_pipeline is { HasPending: true } && e is not (JournalUnavailableException or OperationCanceledException or ObjectDisposedException))
        {
            // A refused frame, an expired deadline, a reset: the messages before it were read whole and are
            // committing, so they are handed on (printed, acknowledged if the peer still listens) before the end.
            await DrainAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            if (_pipeline is not null)
            {
                await _pipeline.AbandonAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<string> ReceiveCoreAsync()
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
                        if (_pipeline is { HasPending: true })
                        {
                            // Nothing to read yet, but commits are pending: wait for whichever comes first, so that
                            // acks never wait for the client's next message and reads never wait for a commit.
                            await WaitForDataOrCommitsAsync(_pipeline, idle: start == end).ConfigureAwait(false);
                            deadlines.ThrowIfExpired();
                            continue;
                        }

                        break;
                    }

                    if (received == 0)
                    {
                        deadlines.ThrowIfExpired(); // our own shutdown, not the client's: the tail is a cut-off message
                        if (FrameTail(buffer, start, end))
                        {
                            buffer = await HandOnAsync(buffer, 1, start, start).ConfigureAwait(false);
                        }

                        start = end;
                        return "client closed";
                    }

                    Bytes += received;
                    end += received;
                    int count = Frame(buffer, ref start, end, out var refused);
                    if (count > 0)
                    {
                        var rest = await HandOnAsync(buffer, count, start, end).ConfigureAwait(false);
                        if (rest != buffer)
                        {
                            // The pipeline took the buffer; the unconsumed bytes are at the front of the new one.
                            buffer = rest;
                            end -= start;
                            start = 0;
                            await _pipeline!.HandOnCommittedAsync().ConfigureAwait(false);
                        }
                    }

                    if (refused is not null)
                    {
                        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(refused);
                    }

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
    /// Hands on the pipeline's batches as their commits end until the socket has data (or EOF) to read: the data wait
    /// is the transport's zero-byte read, and nothing else reads meanwhile. A stop cuts the wait short only when
    /// <paramref name="idle"/> (no message begun), after the pending batches were handed on.
    /// </summary>
    private async ValueTask WaitForDataOrCommitsAsync(CommitPipeline pipeline, bool idle)
    {
        var data = transport.WaitForDataAsync(idle ? context.Stopping : CancellationToken.None).AsTask();
        while (pipeline.HasPending && !data.IsCompleted)
        {
            await Task.WhenAny(data, pipeline.OldestCommit).ConfigureAwait(false);
            await pipeline.HandOnCommittedAsync().ConfigureAwait(false);
        }

        if (!data.IsCompletedSuccessfully)
        {
            try
            {
                await data.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await pipeline.DrainAsync().ConfigureAwait(false); // stopping: what was read is handed on first
                throw;
            }
        }
    }

    /// <summary>Messages handed on (journal, sink, acks) so far.</summary>
    private long HandedOn => _pipeline?.Messages ?? _direct;

    private async ValueTask DrainAsync()
    {
        if (_pipeline is not null)
        {
            await _pipeline.DrainAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Frames every complete message in buffer[start..end) into the ranges, moves start past them, returns how many.
    /// A frame the framer refuses (too long, a malformed length header) comes back in <paramref name="refused"/> to
    /// be thrown once the complete messages before it in the same read are handed on: a whole message is never lost
    /// to what follows it.
    /// </summary>
    private int Frame(byte[] buffer, ref int start, int end, out ProtocolException? refused)
    {
        int count = 0;
        refused = null;
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
        }
        else if (start < end)
        {
            deadlines.PartialMessageSeen(now);
        }

        return count;
    }

    private bool FrameTail(byte[] buffer, int start, int end)
    {
        // Clean EOF after an unterminated tail: the client finished sending, so the tail is a whole message
        // (docs/PROTOCOL.md). A reset never gets here, so a cut-off message is never delivered. In a length-prefixed
        // framing a tail is a frame cut short: the framer throws MalformedFrameException, which refuses the connection.
        if (!_framer.TryReadFinalMessage(buffer.AsSpan(start, end - start), out int length))
        {
            return false;
        }

        if (_ranges.Length == 0)
        {
            GrowRanges();
        }

        _ranges[0] = (start, length);
        return true;
    }

    /// <summary>
    /// Hands one read's messages on, in the order that makes "stored" mean something: the journal commits them first,
    /// only then are they given to the sink and acknowledged. Without a journal that happens here and the read
    /// buffer stays this loop's (returned as is). With one, the buffer and the ranges go to the pipeline, which hands
    /// them on once committed, and the loop goes on in a fresh buffer holding the unconsumed bytes
    /// buffer[start..end) at its front (returned). A journal failure propagates and closes this connection without
    /// acknowledging anything more. Journal and sink get the server's abort token: a stop that gives up waiting
    /// cancels them.
    /// </summary>
    private async ValueTask<byte[]> HandOnAsync(byte[] buffer, int count, int start, int end)
    {
        if (_pipeline is { } pipeline)
        {
            await pipeline.WaitForRoomAsync().ConfigureAwait(false);
            byte[] rest = ArrayPool<byte>.Shared.Rent(Math.Max(InitialBufferBytes, end - start));
            buffer.AsSpan(start, end - start).CopyTo(rest);
            try
            {
                pipeline.Start(context.Journal!, buffer, _ranges, count);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(rest);
                throw;
            }

            _ranges = []; // the pipeline's now, with the buffer
            return rest;
        }

        var batch = new MessageBatch(info, context.TimeProvider.GetUtcNow(), context.Encoding, buffer, _ranges.AsMemory(0, count));
        _direct += count;
        context.Metrics.Received(batch);
        await context.Sink.OnMessagesAsync(batch, context.Aborting).ConfigureAwait(false);
        return buffer; // acknowledgements need a journal (TalkServerOptions.Acknowledge)
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
