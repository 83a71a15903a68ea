using System.Buffers;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>
/// A connection to a TcpTalk (or classic C) server: connect, read the greeting, send messages, complete. With
/// <see cref="TalkClientOptions.Tls"/>, the same exchange goes over TLS.
/// </summary>
/// <example>
/// <code>
/// await using var client = await TalkClient.ConnectAsync("localhost", 12345);
/// Console.WriteLine(client.Greeting);          // Welcome 127.0.0.1!
/// await client.SendAsync("hello");
/// await client.CompleteAsync();                 // half-close, wait for the server to close
/// </code>
/// </example>
public sealed class TalkClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly SslStream? _ssl;
    private readonly FirstBytesStream? _received;
    private TlsClientHandshake? _handshake;
    private readonly TalkClientOptions _options;
    private readonly MessageFramer _framer;
    private readonly FrameReader _reader;
    private readonly CancellationTokenSource _readerStop = new();
    private Task? _serverFrames;
    private volatile string? _serverError;
    private volatile bool _serverClosed;
    private int _startedWhenServerClosed = -1;
    private bool _completed;
    private readonly List<long> _acks = [];
    private readonly SemaphoreSlim _ackArrived = new(0, int.MaxValue);

    private TalkClient(Socket socket, TalkClientOptions options, MessageFramer framer)
    {
        _socket = socket;
        _options = options;
        _framer = framer;
        RemoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _stream = new NetworkStream(socket, ownsSocket: false);
        if (options.Tls is not null)
        {
            _received = new FirstBytesStream(_stream);
            _stream = _ssl = new SslStream(_received, leaveInnerStreamOpen: false);
        }

        _reader = new FrameReader(_stream, framer);
    }

    /// <summary>The greeting's text, decoded with the configured encoding, control characters escaped.</summary>
    public string Greeting { get; private set; } = string.Empty;

    /// <summary>The greeting's bytes as received, terminator excluded.</summary>
    public ReadOnlyMemory<byte> GreetingBytes { get; private set; }

    /// <summary>The server address and port actually connected to.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>This side's address and port.</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Journal ids the server acknowledged so far, in order (with acknowledgements on).</summary>
    public IReadOnlyList<long> AcknowledgedIds
    {
        get
        {
            lock (_acks)
            {
                return [.. _acks];
            }
        }
    }

    /// <summary>Messages sent so far.</summary>
    public int MessagesSent { get; private set; }

    /// <summary>The server's certificate over TLS (after the handshake); null over plain TCP.</summary>
    public X509Certificate2? ServerCertificate => _ssl?.RemoteCertificate as X509Certificate2;

    /// <summary>The TLS version negotiated; null over plain TCP.</summary>
    public SslProtocols? TlsProtocol => _ssl?.SslProtocol;

    /// <summary>
    /// Resolves <paramref name="host"/>, connects to the first of its addresses that answers (Happy Eyeballs), and
    /// reads the greeting.
    /// </summary>
    /// <exception cref="HostNotFoundException">The name has no address.</exception>
    /// <exception cref="ConnectFailedException">Every address refused or was unreachable.</exception>
    /// <exception cref="TalkTimeoutException">No address answered within <see cref="TalkClientOptions.ConnectTimeout"/>, or no greeting within <see cref="TalkClientOptions.ResponseTimeout"/>.</exception>
    /// <exception cref="ProtocolException">The server closed without a greeting, or the greeting was too long.</exception>
    /// <exception cref="TlsHandshakeException">With TLS: the server is not trusted, requires or refused a client certificate, timed out, or does not speak TLS.</exception>
    public static async Task<TalkClient> ConnectAsync(string host, int port = HostAndPort.DefaultPort, TalkClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        options ??= new TalkClientOptions();
        options.Validate();
        var framer = new MessageFramer(options.Framing, options.MaxMessageBytes);
        string target = new HostAndPort(host, port).ToString();

        Socket socket;
        using (var connectTimeout = new CancellationTokenSource(options.ConnectTimeout, options.TimeProvider))
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectTimeout.Token))
        {
            try
            {
                var addresses = await options.Resolver.ResolveAsync(host, connect.Token).ConfigureAwait(false);
                if (addresses.Length == 0)
                {
                    throw new HostNotFoundException(host);
                }

                socket = await HappyEyeballs.ConnectAsync(addresses, port, options, connect.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (connectTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TalkTimeoutException($"no answer from {target} within {DurationText.Format(options.ConnectTimeout)}");
            }
        }

        TalkClient client;
        try
        {
            client = new TalkClient(socket, options, framer);
        }
        catch (SocketException e) when (PeerErrors.MeanPeerGone(e.SocketErrorCode))
        {
            // Reading RemoteEndPoint after a reset fails with NotConnected: the server reset right after accepting.
            socket.Dispose();
            throw new ServerClosedException($"{target} reset the connection before sending a greeting", e);
        }

        try
        {
            if (options.Tls is { } tls)
            {
                client._handshake = new TlsClientHandshake(tls, host, target);
                await client._handshake.AuthenticateAsync(client._ssl!, client._received!, options.ResponseTimeout, options.TimeProvider, cancellationToken)
                    .ConfigureAwait(false);
            }

            await client.ReadGreetingAsync(target, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return client;
    }

    /// <summary>Sends <paramref name="message"/>, encoded with the configured encoding, as one frame.</summary>
    /// <exception cref="ArgumentException">The message cannot be framed (contains the terminator, too long).</exception>
    /// <exception cref="ServerClosedException">The server already closed or reset the connection.</exception>
    /// <exception cref="ServerErrorException">The server sent an error frame.</exception>
    public Task SendAsync(string message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return SendAsync(_options.Encoding.GetBytes(message), cancellationToken);
    }

    /// <summary>Sends <paramref name="payload"/> as one frame; see <see cref="SendAsync(string, CancellationToken)"/>.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        if (!_framer.CanCarry(payload.Span, out string? reason))
        {
            throw new ArgumentException(reason, nameof(payload));
        }

        ThrowIfServerGone(beforeSending: true);
        if (_socket.Available == 0 && _socket.Poll(0, SelectMode.SelectRead))
        {
            // Readable with nothing to read: the server's FIN or reset has arrived, but the reader may not have taken
            // it yet. Let it finish (it has nothing left to wait for) before counting this message, or the close
            // would be recorded after it and CompleteAsync would report success for a message nobody reads.
            await _serverFrames!.WaitAsync(_options.ResponseTimeout, _options.TimeProvider, cancellationToken)
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            ThrowIfServerGone(beforeSending: true);
        }

        var frame = new ArrayBufferWriter<byte>(payload.Length + 1);
        _framer.WriteFrame(payload.Span, frame);

        // Counted before the bytes leave: the server may read this message and close, and the reader record the
        // count at that close, before the send below resumes.
        MessagesSent++;
        try
        {
            await WriteAsync(frame.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (PeerErrors.MeanPeerGone(e.SocketErrorCode))
        {
            MessagesSent--;
            ThrowIfServerGone(beforeSending: true);
            throw new ServerClosedException($"server reset the connection before message {MessagesSent + 1} was sent; it read {Read()} message(s) at most", e);
        }
        catch
        {
            MessagesSent--;
            throw;
        }
    }

    /// <summary>
    /// Half-closes (tells the server nothing more comes) and waits, at most <see cref="TalkClientOptions.ResponseTimeout"/>,
    /// for the server to close its side.
    /// </summary>
    /// <exception cref="ServerErrorException">The server sent an error frame.</exception>
    /// <exception cref="ServerClosedException">The server reset the connection or closed it before messages sent after that were read.</exception>
    /// <exception cref="TalkTimeoutException">The server did not close in time.</exception>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _completed = true;
        bool reset = false;
        try
        {
            if (_ssl is not null)
            {
                await ShutdownTlsAsync().ConfigureAwait(false); // close_notify: the TLS way to say nothing more comes
            }

            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException e) when (PeerErrors.MeanPeerGone(e.SocketErrorCode))
        {
            reset = true;
        }

        if (_options.RequireAcknowledgements)
        {
            await WaitForAcknowledgementsAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await _serverFrames!.WaitAsync(_options.ResponseTimeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TalkTimeoutException($"server did not close the connection within {DurationText.Format(_options.ResponseTimeout)} after the last message");
        }

        ThrowIfServerGone(beforeSending: false);

        // The server's FIN can be seen before the reset its kernel sends for data that arrived after it closed: a
        // pending socket error still tells that something sent was never read.
        if (reset || PendingError() is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
        {
            throw new ServerClosedException(
                $"server reset the connection: it closed without reading everything sent ({MessagesSent} message(s) sent)");
        }
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        if (_ssl is null)
        {
            await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await _ssl.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is SocketException socketError)
        {
            ExceptionDispatchInfo.Throw(socketError); // reported as over plain TCP
        }
    }

    private async Task ShutdownTlsAsync()
    {
        try
        {
            await _ssl!.ShutdownAsync().ConfigureAwait(false);
        }
        catch (IOException e) when (e.InnerException is SocketException socketError)
        {
            ExceptionDispatchInfo.Throw(socketError);
        }
        catch (IOException)
        {
            // The TLS session already broke; the reader has seen it and CompleteAsync reports it.
        }
    }

    private SocketError PendingError()
    {
        try
        {
            return (SocketError)(int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }

    private async Task WaitForAcknowledgementsAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.AckTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            while (AcknowledgedIds.Count < MessagesSent && !_serverFrames!.IsCompleted)
            {
                await Task.WhenAny(_ackArrived.WaitAsync(linked.Token), _serverFrames).ConfigureAwait(false);
                linked.Token.ThrowIfCancellationRequested();
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
        }

        var acked = AcknowledgedIds;
        if (acked.Count < MessagesSent)
        {
            ThrowIfServerGone(beforeSending: false);
            throw new NotAcknowledgedException(MessagesSent, acked,
                $"{MessagesSent - acked.Count} of {MessagesSent} message(s) were not acknowledged within {DurationText.Format(_options.AckTimeout)}; they may not be stored");
        }
    }

    /// <summary>Closes the connection (without waiting for the server, unless <see cref="CompleteAsync"/> was called).</summary>
    public async ValueTask DisposeAsync()
    {
        await _readerStop.CancelAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        if (_serverFrames is not null)
        {
            try
            {
                await _serverFrames.ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException
                                           or TalkClientException or ProtocolException or IOException)
            {
                // A server failure was reported by SendAsync or CompleteAsync; disposing does not throw it again.
            }
        }

        _readerStop.Dispose();
        _ackArrived.Dispose();
    }

    private async Task ReadGreetingAsync(string target, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.ResponseTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        byte[]? greeting;
        try
        {
            greeting = await _reader.ReadFrameAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TalkTimeoutException($"connected to {target} but no greeting arrived within {DurationText.Format(_options.ResponseTimeout)}");
        }
        catch (MessageTooLongException e)
        {
            throw new ProtocolException($"greeting from {target} is longer than {e.Limit} bytes (the limit); is this a TcpTalk server with {_framer.Mode.ToName()} framing?", e);
        }
        catch (SocketException e) when (PeerErrors.MeanPeerGone(e.SocketErrorCode))
        {
            throw (Exception?)_handshake?.RefusedAfterHandshake(e) ?? new ServerClosedException($"{target} reset the connection before sending a greeting", e);
        }
        catch (IOException e) when (_handshake is not null)
        {
            // A TLS alert where the greeting should be: with TLS 1.3, mutual TLS refuses a client only now.
            throw _handshake.RefusedAfterHandshake(e) ?? new TlsHandshakeException($"the TLS session with {target} broke before the greeting", e);
        }

        if (greeting is null)
        {
            throw (Exception?)_handshake?.RefusedAfterHandshake() ?? new ProtocolException($"{target} closed the connection without sending a greeting");
        }

        if (ServerReply.TryParseError(greeting, out string sentence))
        {
            throw new ServerErrorException(sentence);
        }

        GreetingBytes = greeting;
        Greeting = MessageText.DecodeEscaped(greeting, _options.Encoding);
        _serverFrames = ReadServerFramesAsync();
    }

    /// <summary>Watches what the server sends after the greeting: error frames, its close, or a reset.</summary>
    private async Task ReadServerFramesAsync()
    {
        try
        {
            while (await _reader.ReadFrameAsync(_readerStop.Token).ConfigureAwait(false) is { } frame)
            {
                if (ServerReply.TryParseError(frame, out string sentence))
                {
                    _serverError ??= sentence;
                }
                else if (ServerReply.TryParseAck(frame, out long id))
                {
                    lock (_acks)
                    {
                        _acks.Add(id);
                    }

                    _ackArrived.Release();
                }

                // Any other frame is ignored, so that newer servers can add frames.
            }

            Interlocked.CompareExchange(ref _startedWhenServerClosed, MessagesSent, -1);
            _serverClosed = true;
        }
        catch (SocketException e) when (PeerErrors.MeanPeerGone(e.SocketErrorCode))
        {
            Interlocked.CompareExchange(ref _startedWhenServerClosed, MessagesSent, -1);
            _serverClosed = true;
            throw new ServerClosedException(
                $"server reset the connection: it closed without reading everything sent ({MessagesSent} message(s) sent)", e);
        }
        catch (MessageTooLongException e)
        {
            throw new ProtocolException($"server sent a frame longer than {e.Limit} bytes", e);
        }
        catch (IOException e) when (_ssl is not null)
        {
            Interlocked.CompareExchange(ref _startedWhenServerClosed, MessagesSent, -1);
            _serverClosed = true;
            throw new ServerClosedException(
                $"the server's TLS stream broke off (a TLS alert or a corrupt record) after {MessagesSent} message(s) sent", e);
        }
    }

    private void ThrowIfServerGone(bool beforeSending)
    {
        if (_serverError is { } error)
        {
            throw new ServerErrorException(error);
        }

        if (_serverFrames is { IsFaulted: true } failed)
        {
            throw failed.Exception!.InnerException!;
        }

        // Messages counted before the close was seen may have been read; those sent after it surely were not.
        int sentAtClose = Volatile.Read(ref _startedWhenServerClosed);
        if (_serverClosed && (beforeSending || MessagesSent > sentAtClose))
        {
            int first = sentAtClose + 1;
            throw new ServerClosedException(beforeSending
                ? $"server closed the connection after {sentAtClose} message(s); message {MessagesSent + 1} was not sent"
                : $"server closed the connection before message {first} arrived; messages {first} to {MessagesSent} were not read");
        }
    }

    private int Read() => Math.Max(0, MessagesSent - 1);

}
