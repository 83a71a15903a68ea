using System.Runtime.ExceptionServices;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>
/// Reads what the server sends after the greeting, for the life of a connection: acknowledgements, error frames, its
/// close or a reset. Records what it saw so that sending and completing can tell what the server did and when.
/// </summary>
/// <remarks>
/// The sender and the watcher run at the same time. The one thing they share is the count of messages sent:
/// the <c>messagesSent</c> function reads it (with a barrier), and the watcher records its value at the moment the
/// close was seen, so that messages counted after it are known not to have been read.
/// </remarks>
internal sealed class ServerFrameWatcher : IAsyncDisposable
{
    private readonly FrameReader _reader;
    private readonly bool _tls;
    private readonly Func<int> _messagesSent;
    private readonly TalkClientOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<long> _acks = [];
    private readonly SemaphoreSlim _ackArrived = new(0, int.MaxValue);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _ackCount;
    private volatile string? _error;
    private volatile bool _serverClosed;
    private int _sentWhenServerClosed = -1;

    public ServerFrameWatcher(FrameReader reader, bool tls, TalkClientOptions options, Func<int> messagesSent)
    {
        _reader = reader;
        _tls = tls;
        _options = options;
        _messagesSent = messagesSent;
        Reading = ReadServerFramesAsync();
    }

    /// <summary>Completes when the server closed; faults with the reason when it reset or broke the protocol.</summary>
    public Task Reading { get; }

    /// <summary>Completes when the server has closed or reset its side, or the watcher stopped; never faults.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Acknowledgements received so far; read without copying the list.</summary>
    public int AcknowledgedCount => Volatile.Read(ref _ackCount);

    /// <summary>A copy of the journal ids acknowledged so far, in arrival order.</summary>
    public IReadOnlyList<long> Acknowledged
    {
        get
        {
            lock (_acks)
            {
                return [.. _acks];
            }
        }
    }

    /// <summary>
    /// Throws what the server did, if it did: an error frame, a reset or broken stream, or a close before the
    /// messages counted after it (<paramref name="beforeSending"/>: before the next one).
    /// </summary>
    public void ThrowIfServerGone(bool beforeSending)
    {
        if (_error is { } error)
        {
            throw new ServerErrorException(error);
        }

        if (Reading is { IsFaulted: true } failed)
        {
            ExceptionDispatchInfo.Throw(failed.Exception!.InnerException!); // keeps the watcher's stack trace
        }

        // Messages counted before the close was seen may have been read; those sent after it surely were not.
        int sent = _messagesSent();
        int sentAtClose = Volatile.Read(ref _sentWhenServerClosed);
        if (_serverClosed && (beforeSending || sent > sentAtClose))
        {
            int first = sentAtClose + 1;
            throw new ServerClosedException(beforeSending
                ? $"server closed the connection after {sentAtClose} message(s); message {sent + 1} was not sent"
                : $"server closed the connection before message {first} arrived; messages {first} to {sent} were not read");
        }
    }

    /// <summary>
    /// Waits, at most <see cref="TalkClientOptions.AckTimeout"/>, until every message sent is acknowledged or the
    /// server closed.
    /// </summary>
    /// <exception cref="NotAcknowledgedException">Some message was not acknowledged; the message says whether the server closed or time ran out.</exception>
    public async Task WaitForAcknowledgementsAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.AckTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            while (AcknowledgedCount < _messagesSent() && !Reading.IsCompleted)
            {
                await Task.WhenAny(_ackArrived.WaitAsync(linked.Token), Reading).ConfigureAwait(false);
                linked.Token.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
        }

        int sent = _messagesSent();
        var acked = Acknowledged;
        if (acked.Count < sent)
        {
            ThrowIfServerGone(beforeSending: false);
            int missing = sent - acked.Count;
            throw new NotAcknowledgedException(sent, acked, Reading.IsCompleted
                ? $"server closed the connection without acknowledging {missing} of {sent} message(s) (does it acknowledge? tcptalk serve does with --ack); they may not be stored"
                : $"{missing} of {sent} message(s) were not acknowledged within {DurationText.Format(_options.AckTimeout)}; they may not be stored");
        }
    }

    /// <summary>Asks the reader to stop (the connection is being closed).</summary>
    public void Stop() => _stop.Cancel();

    /// <summary>Stops watching and waits for the reader to end.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Reading.ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or OperationCanceledException or ObjectDisposedException
                                       or TalkClientException or ProtocolException or IOException)
        {
            // A server failure was reported by SendAsync or CompleteAsync; disposing does not throw it again.
        }

        _stop.Dispose();
        _ackArrived.Dispose();
    }

    private async Task ReadServerFramesAsync()
    {
        await Task.Yield(); // the constructor returns before the first read
        try
        {
            while (await _reader.ReadFrameAsync(_stop.Token).ConfigureAwait(false) is { } frame)
            {
                Take(frame);
            }

            ServerClosed();
        }
        catch (System.Net.Sockets.SocketException e) when (PeerErrors.MeanPeerGone(e.SocketErrorCode))
        {
            ServerClosed();
            throw new ServerClosedException(
                $"server reset the connection: it closed without reading everything sent ({_messagesSent()} message(s) sent)", e);
        }
        catch (MessageTooLongException e)
        {
            throw new ProtocolException($"server sent a frame longer than {e.Limit} bytes", e);
        }
        catch (MalformedFrameException e)
        {
            throw new ProtocolException($"server sent a malformed frame: {e.Message}", e);
        }
        catch (IOException e) when (_tls)
        {
            ServerClosed();
            throw new ServerClosedException(
                $"the server's TLS stream broke off (a TLS alert or a corrupt record) after {_messagesSent()} message(s) sent", e);
        }
        finally
        {
            _closed.TrySetResult();
        }
    }

    private void Take(byte[] frame)
    {
        ServerFrame shown;
        if (ServerReply.TryParseError(frame, out string sentence))
        {
            _error ??= sentence;
            shown = new ServerFrame(ServerFrameKind.Error, sentence, 0);
        }
        else if (ServerReply.TryParseAck(frame, out long id))
        {
            lock (_acks)
            {
                _acks.Add(id);
            }

            Interlocked.Increment(ref _ackCount);
            _ackArrived.Release();
            shown = new ServerFrame(ServerFrameKind.Acknowledgement, $"ack {id}", id);
        }
        else
        {
            // Ignored, so that newer servers can add frames.
            shown = new ServerFrame(ServerFrameKind.Other, MessageText.DecodeEscaped(frame, _options.Encoding), 0);
        }

        _options.OnServerFrame?.Invoke(shown);
    }

    private void ServerClosed()
    {
        Interlocked.CompareExchange(ref _sentWhenServerClosed, _messagesSent(), -1);
        _serverClosed = true;
    }
}
