using System.Buffers;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Server;

/// <summary>
/// Serves one accepted connection: TLS handshake when configured, greeting, then messages until the client
/// half-closes, then close.
/// </summary>
/// <remarks>
/// An idle connection owns no buffer: it waits with a zero-byte receive, which completes when data (or EOF)
/// arrives. Only then is a pooled buffer rented and drained with non-blocking receives until the socket would
/// block, parsing complete messages after every receive and handing each read's messages to the sink as one
/// batch. Bytes of a message not yet complete stay at the front of the buffer; once everything is consumed the
/// buffer goes back to the pool. So memory per idle connection is the socket and this object, and memory per busy
/// connection is bounded by <see cref="MessageFramer.MaxFrameBytes"/>. The bytes come through a
/// <see cref="ConnectionTransport"/>: the socket itself, or TLS over it (where one read per wake replaces the drain).
/// </remarks>
internal sealed class ConnectionHandler
{
    private const int InitialBufferBytes = 16 * 1024;
    private const int ReadsBeforeYield = 16; // fairness: a busy stream lets accepts and other connections run
    private static readonly TimeSpan RefusalDrainTime = TimeSpan.FromSeconds(1);

    private readonly TalkServer _server;
    private readonly Socket _socket;
    private readonly ConnectionTransport _transport;
    private readonly MessageFramer _framer;
    private (int Start, int Length)[] _ranges = [];
    private long _messages;
    private long _bytes;
    private volatile bool _stopping;

    // Timestamps (TimeProvider ticks) read by the server's once-a-second sweep; 0 means "not running".
    private readonly long _openedAt;
    private long _lastMessageAt;
    private long _messageStartedAt;
    private long _sendStartedAt;
    private string? _expiredBecause;

    public ConnectionHandler(TalkServer server, Socket socket, ConnectionInfo info)
    {
        _server = server;
        _socket = socket;
        _transport = server.Tls is { } tls ? new TlsTransport(socket, tls, server.TimeProvider, server.StoppingToken) : new SocketTransport(socket);
        _framer = server.Framer;
        Info = info;
        _openedAt = _lastMessageAt = server.TimeProvider.GetTimestamp(); // the sweep may look before RunAsync starts
    }

    public ConnectionInfo Info { get; }

    /// <summary>Asks the connection to close at the next message boundary (at once if it is idle).</summary>
    public void RequestStop() => _stopping = true;

    /// <summary>Closes the socket now; a pending receive fails and the handler ends.</summary>
    public void Abort() => _socket.Dispose();

    /// <summary>
    /// Called by the server's sweep: closes the connection when one of its timeouts has passed. Returns the reason,
    /// or null when the connection is within its limits.
    /// </summary>
    public string? CheckTimeouts(long now, TimeProvider time, TimeSpan idle, TimeSpan message, TimeSpan write)
    {
        string? reason = null;
        long sendStarted = Volatile.Read(ref _sendStartedAt);
        long messageStarted = Volatile.Read(ref _messageStartedAt);
        if (write > TimeSpan.Zero && sendStarted != 0 && time.GetElapsedTime(sendStarted, now) > write)
        {
            reason = $"client did not read for {DurationText.Format(write)} (write timeout)";
        }
        else if (message > TimeSpan.Zero && messageStarted != 0 && time.GetElapsedTime(messageStarted, now) > message)
        {
            reason = $"message not completed within {DurationText.Format(message)} of its first byte (message timeout)";
        }
        else if (idle > TimeSpan.Zero && time.GetElapsedTime(Volatile.Read(ref _lastMessageAt), now) > idle)
        {
            reason = $"no complete message for {DurationText.Format(idle)} (idle timeout)";
        }

        if (reason is null || Interlocked.CompareExchange(ref _expiredBecause, reason, null) is not null)
        {
            return null;
        }

        try
        {
            if (sendStarted != 0)
            {
                _socket.Dispose(); // it does not read: nothing more can reach it, so abort the blocked send
            }
            else
            {
                // Wake the handler's pending receive (it then sees end of stream), so that the handler itself
                // sends the reason, half-closes and lets the error line drain, as for any refusal.
                _socket.Shutdown(SocketShutdown.Receive);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            _socket.Dispose();
        }

        return reason;
    }

    private void ThrowIfExpired()
    {
        if (Volatile.Read(ref _expiredBecause) is { } reason)
        {
            throw new ConnectionExpiredException(reason);
        }
    }

    private sealed class ConnectionExpiredException(string reason) : Exception(reason);

    /// <summary>Serves the connection to its end. Never throws: every failure ends this connection only.</summary>
    public async Task RunAsync()
    {
        string reason = "client closed";
        var log = _server.Logger;
        bool debug = log.IsEnabled(LogLevel.Debug); // the arguments cost strings: build them only when logged
        if (debug)
        {
            ServerLog.ConnectionOpened(log, Info.Id, Info.Protocol, Info.Local, Info.Remote);
        }

        _server.Metrics.Accepted();

        try
        {
            await _transport.StartAsync().ConfigureAwait(false);
            if (debug && _transport is TlsTransport tls)
            {
                ServerLog.TlsEstablished(log, Info.Id, Info.Remote, tls.Protocol.ToString(),
                    tls.ClientCertificate is { } certificate ? certificate.Subject : "none");
            }

            await SendGreetingAsync().ConfigureAwait(false);
            reason = await ReceiveMessagesAsync().ConfigureAwait(false);
        }
        catch (MessageTooLongException e)
        {
            reason = "message too long";
            ServerLog.MessageRefused(log, Info.Id, Info.Remote, e.Message);
            await RefuseAsync(e.Message).ConfigureAwait(false);
        }
        catch (ConnectionExpiredException e)
        {
            reason = e.Message;
            await RefuseAsync(e.Message).ConfigureAwait(false);
        }
        catch (JournalUnavailableException e)
        {
            reason = "journal unavailable";
            ServerLog.JournalRefused(log, Info.Id, Info.Remote, e.Message);
            // Never acknowledged either way; "may not" when the journal cannot tell (see MayBeStored).
            await RefuseAsync(e.MayBeStored ? $"messages may not be stored: {e.Message}" : $"messages not stored: {e.Message}").ConfigureAwait(false);
        }
        catch (TlsFailedException e)
        {
            reason = _expiredBecause ?? e.Message;
            if (e.ClientCertificateRejected)
            {
                ServerLog.ClientCertificateRefused(log, Info.Id, Info.Remote, e.Message);
            }
            else if (debug)
            {
                ServerLog.TlsFailed(log, Info.Id, Info.Remote, e.Message);
            }
        }
        catch (SocketException e) when (PeerErrors.MeanPeerGone(e.SocketErrorCode))
        {
            // TimedOut on an idle connection: TCP keepalive probes went unanswered (KeepAliveTime); the peer vanished.
            reason = e.SocketErrorCode == SocketError.TimedOut ? "peer vanished (unanswered keepalive or retransmissions)" : "peer reset";
            if (debug)
            {
                ServerLog.ConnectionReset(log, Info.Id, Info.Remote, e.SocketErrorCode.ToString());
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException
                                  || (e is SocketException se && se.SocketErrorCode == SocketError.OperationAborted))
        {
            reason = _expiredBecause ?? "server stopped";
        }
        catch (Exception e)
        {
            reason = "failed";
            ServerLog.ConnectionFailed(log, e, Info.Id, Info.Remote);
        }
        finally
        {
            _transport.Close();
            if (debug)
            {
                ServerLog.ConnectionClosed(log, Info.Id, Info.Protocol, Info.Local, Info.Remote, _messages, _bytes, reason);
            }

            _server.Metrics.Closed(_server.TimeProvider.GetElapsedTime(_openedAt));
            _server.OnConnectionClosed(this);
        }
    }

    private async ValueTask SendGreetingAsync()
    {
        var greeting = _server.Greeting;
        byte[] frame = ArrayPool<byte>.Shared.Rent(greeting.MaxFormattedBytes + 1);
        try
        {
            int length = greeting.Format(Info.RemoteAddress, Info.RemotePort, frame);
            frame[length++] = _framer.TerminatorByte;
            await SendAllAsync(frame.AsMemory(0, length)).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private ValueTask SendAllAsync(ReadOnlyMemory<byte> data) => WatchSendAsync(_transport.SendAsync(data));

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
        Volatile.Write(ref _sendStartedAt, _server.TimeProvider.GetTimestamp());
        try
        {
            await sending.ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _sendStartedAt, 0);
        }
    }

    /// <summary>Reads until EOF or a stop request; returns why the connection ends.</summary>
    private async Task<string> ReceiveMessagesAsync()
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
                    await _transport.WaitForDataAsync(_server.StoppingToken).ConfigureAwait(false);
                }
                else
                {
                    // Mid-message: finish it even while stopping; ShutdownTimeout aborts us if it never ends.
                    await _transport.WaitForDataAsync(CancellationToken.None).ConfigureAwait(false);
                }

                ThrowIfExpired();
                buffer ??= ArrayPool<byte>.Shared.Rent(InitialBufferBytes);
                int reads = 0;
                while (true)
                {
                    if (end == buffer.Length)
                    {
                        MakeRoom(ref buffer, ref start, ref end);
                    }

                    int received = await _transport.ReceiveAvailableAsync(buffer.AsMemory(end)).ConfigureAwait(false);
                    if (received == ConnectionTransport.NothingAvailable)
                    {
                        break;
                    }

                    if (received == 0)
                    {
                        ThrowIfExpired(); // our own shutdown, not the client's: the tail is a cut-off message
                        await DeliverTailAsync(buffer, start, end).ConfigureAwait(false);
                        start = end;
                        return "client closed";
                    }

                    _bytes += received;
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

    /// <summary>Parses every complete message in buffer[start..end), hands them to the sink, returns the new start.</summary>
    private async ValueTask<int> DeliverAsync(byte[] buffer, int start, int end)
    {
        int count = 0;
        while (_framer.TryReadMessage(buffer.AsSpan(start, end - start), out int length, out int frame))
        {
            if (count == _ranges.Length)
            {
                GrowRanges();
            }

            _ranges[count++] = (start, length);
            start += frame;
        }

        // The message deadline runs from a message's first byte: a new partial message starts it, completing every
        // message stops it, and completing one while the next has begun restarts it for the next.
        long now = _server.TimeProvider.GetTimestamp();
        if (count > 0)
        {
            Volatile.Write(ref _lastMessageAt, now);
            Volatile.Write(ref _messageStartedAt, start < end ? now : 0);
            await Emit(buffer, count).ConfigureAwait(false);
        }
        else if (start < end && Volatile.Read(ref _messageStartedAt) == 0)
        {
            Volatile.Write(ref _messageStartedAt, now);
        }

        return start;
    }

    private async ValueTask DeliverTailAsync(byte[] buffer, int start, int end)
    {
        // Clean EOF after an unterminated tail: the client finished sending, so the tail is a whole message
        // (docs/PROTOCOL.md). A reset never gets here, so a cut-off message is never delivered.
        if (_framer.TryReadFinalMessage(buffer.AsSpan(start, end - start), out int length))
        {
            if (_ranges.Length == 0)
            {
                GrowRanges();
            }

            _ranges[0] = (start, length);
            await Emit(buffer, 1).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Hands one read's messages on, in the order that makes "stored" mean something: the journal commits them first
    /// (waiting here is the backpressure: this connection reads nothing more meanwhile), only then are they printed
    /// and acknowledged. A journal failure propagates and closes this connection without acknowledging anything.
    /// </summary>
    private async ValueTask Emit(byte[] buffer, int count)
    {
        var batch = new MessageBatch(Info, _server.TimeProvider.GetUtcNow(), _server.Encoding, buffer, _ranges.AsMemory(0, count));
        if (_server.Journal is { } journal)
        {
            long started = _server.Metrics.TimesCommits ? _server.TimeProvider.GetTimestamp() : 0;
            long first = await journal.AppendAsync(batch, CancellationToken.None).ConfigureAwait(false);
            batch = batch with { FirstJournalId = first };
            if (started != 0)
            {
                _server.Metrics.Committed(_server.TimeProvider.GetElapsedTime(started));
            }
        }

        _messages += count;
        _server.Metrics.Received(batch);
        await _server.Sink.OnMessagesAsync(batch, CancellationToken.None).ConfigureAwait(false);
        if (_server.Acknowledge)
        {
            await SendAcksAsync(batch.FirstJournalId, count).ConfigureAwait(false);
        }
    }

    private async ValueTask SendAcksAsync(long firstId, int count)
    {
        byte[] frames = ArrayPool<byte>.Shared.Rent(count * ServerReply.MaxAckFrameBytes);
        try
        {
            int length = 0;
            for (int i = 0; i < count; i++)
            {
                length += ServerReply.WriteAck(firstId + i, _framer, frames.AsSpan(length));
            }

            await SendAllAsync(frames.AsMemory(0, length)).ConfigureAwait(false);
            _server.Metrics.AcksSent(count);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frames);
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

    /// <summary>
    /// Sends the error frame, half-closes, and reads and discards what the client still sends for a moment, so the
    /// error reaches it instead of being destroyed by the reset that closing with unread data would cause.
    /// </summary>
    private async Task RefuseAsync(string sentence)
    {
        try
        {
            var frame = new ArrayBufferWriter<byte>(128);
            ServerReply.WriteError(sentence, _framer, frame);
            await SendAllAsync(frame.WrittenMemory).ConfigureAwait(false);
            await WatchSendAsync(_transport.ShutdownSendAsync()).ConfigureAwait(false);

            // What the client still sends is discarded, so it is read off the socket itself (TLS records unopened).
            using var drain = new CancellationTokenSource(RefusalDrainTime, _server.TimeProvider);
            byte[] scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
            try
            {
                while (await _socket.ReceiveAsync(scratch, SocketFlags.None, drain.Token).ConfigureAwait(false) > 0)
                {
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The peer is gone or would not stop sending; the connection closes either way.
        }
    }
}
