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
/// <remarks>
/// Connecting is <see cref="TcpConnector"/> (resolve, Happy Eyeballs) then <see cref="TlsClientHandshake"/> and
/// <see cref="GreetingReader"/>; after the greeting a <see cref="ServerFrameWatcher"/> reads what the server sends
/// while this class sends.
/// </remarks>
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
    /// <summary>How often a send that saw what looks like the server's close checks again whether it still looks so.</summary>
    private static readonly TimeSpan CloseRecheckInterval = TimeSpan.FromMilliseconds(1);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly SslStream? _ssl;
    private readonly FirstBytesStream? _received;
    private readonly TalkClientOptions _options;
    private readonly MessageFramer _framer;
    private readonly FrameReader _reader;
    private ServerFrameWatcher? _watcher;
    private int _messagesSent;
    private bool _completed;
    private int _disposed;

    private TalkClient(Socket socket, TalkClientOptions options, MessageFramer framer)
    {
        _socket = socket;
        _options = options;
        _framer = framer;
        RemoteEndPoint = socket.RemoteEndPoint!;
        LocalEndPoint = socket.LocalEndPoint ?? new UnixDomainSocketEndPoint(string.Empty);
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

    /// <summary>The server address and port actually connected to: an <see cref="IPEndPoint"/>, or a <see cref="UnixDomainSocketEndPoint"/> for <c>unix:/path</c>.</summary>
    public EndPoint RemoteEndPoint { get; }

    /// <summary>This side's address and port (an unnamed <see cref="UnixDomainSocketEndPoint"/> over a unix socket).</summary>
    public EndPoint LocalEndPoint { get; }

    /// <summary>Journal ids the server acknowledged so far, in order (with acknowledgements on); a copy.</summary>
    public IReadOnlyList<long> AcknowledgedIds => Watcher.Acknowledged;

    /// <summary>Messages sent so far. Safe to read from any thread.</summary>
    public int MessagesSent => Volatile.Read(ref _messagesSent);

    /// <summary>
    /// Completes as soon as the server has closed or reset its side of the connection (or the client was disposed);
    /// never faults. <see cref="SendAsync(string, CancellationToken)"/> and <see cref="CompleteAsync"/> then report
    /// what the server did. Lets an interactive program notice the close while it waits for its user.
    /// </summary>
    public Task ServerClosed => Watcher.Closed;

    /// <summary>The server's certificate over TLS (after the handshake); null over plain TCP.</summary>
    public X509Certificate2? ServerCertificate => _ssl?.RemoteCertificate as X509Certificate2;

    /// <summary>The TLS version negotiated; null over plain TCP.</summary>
    public SslProtocols? TlsProtocol => _ssl?.SslProtocol;

    private ServerFrameWatcher Watcher => _watcher ?? throw new InvalidOperationException("not connected");

    /// <summary>
    /// Resolves <paramref name="host"/>, connects to the first of its addresses that answers (Happy Eyeballs), and
    /// reads the greeting. A host spelled <c>unix:/run/tcptalk.sock</c> is a unix-domain socket (the port is not used).
    /// </summary>
    /// <exception cref="HostNotFoundException">The name has no address.</exception>
    /// <exception cref="ConnectFailedException">Every address refused or was unreachable.</exception>
    /// <exception cref="TalkTimeoutException">No address answered within <see cref="TalkClientOptions.ConnectTimeout"/>, or no greeting within <see cref="TalkClientOptions.ResponseTimeout"/>.</exception>
    /// <exception cref="ProtocolException">The server closed without a greeting, or the greeting was too long.</exception>
    /// <exception cref="TlsHandshakeException">With TLS: the server is not trusted, requires or refused a client certificate, timed out, or does not speak TLS. Without TLS: the server answered in TLS.</exception>
    public static async Task<TalkClient> ConnectAsync(string host, int port = HostAndPort.DefaultPort, TalkClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        options ??= new TalkClientOptions();
        options.Validate();
        var framer = new MessageFramer(options.Framing, options.MaxMessageBytes);
        string target = UnixSocketPath.IsUnixAddress(host) ? host : new HostAndPort(host, port).ToString();
        var socket = await TcpConnector.ConnectAsync(host, port, options, cancellationToken).ConfigureAwait(false);

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
            if (!options.Preamble.IsEmpty)
            {
                await socket.SendAsync(options.Preamble, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            }

            TlsClientHandshake? handshake = null;
            if (options.Tls is { } tls)
            {
                handshake = new TlsClientHandshake(tls, host, target);
                await handshake.AuthenticateAsync(client._ssl!, client._received!, options.ResponseTimeout, options.TimeProvider, cancellationToken)
                    .ConfigureAwait(false);
            }

            byte[] greeting = await GreetingReader.ReadAsync(client._reader, options, handshake, target, cancellationToken).ConfigureAwait(false);
            client.GreetingBytes = greeting;
            client.Greeting = MessageText.DecodeEscaped(greeting, options.Encoding);
            client._watcher = new ServerFrameWatcher(client._reader, tls: options.Tls is not null, options, () => client.MessagesSent);
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

        var watcher = Watcher;
        watcher.ThrowIfServerGone(beforeSending: true);
        if (ServerCloseMayBeUntaken())
        {
            // Readable with nothing to read: the server's FIN or reset has arrived, but the watcher may not have taken
            // it yet. Let it finish (it has nothing left to wait for) before counting this message, or the close
            // would be recorded after it and CompleteAsync would report success for a message nobody reads.
            await WaitForWatcherToTakeCloseAsync(watcher, cancellationToken).ConfigureAwait(false);
            watcher.ThrowIfServerGone(beforeSending: true);
        }

        var frame = new ArrayBufferWriter<byte>(payload.Length + 1);
        _framer.WriteFrame(payload.Span, frame);

        // Counted before the bytes leave: the server may read this message and close, and the watcher record the
        // count at that close, before the send below resumes. Interlocked: the watcher reads it concurrently.
        int sending = Interlocked.Increment(ref _messagesSent);
        try
        {
            await WriteAsync(frame.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (PeerErrors.MeanPeerGone(e.SocketErrorCode))
        {
            Interlocked.Decrement(ref _messagesSent);
            watcher.ThrowIfServerGone(beforeSending: true);
            throw new ServerClosedException($"server reset the connection before message {sending} was sent; it read {Math.Max(0, sending - 2)} message(s) at most", e);
        }
        catch
        {
            Interlocked.Decrement(ref _messagesSent);
            throw;
        }
    }

    /// <summary>
    /// Half-closes (tells the server nothing more comes) and waits, at most <see cref="TalkClientOptions.ResponseTimeout"/>,
    /// for the server to close its side.
    /// </summary>
    /// <exception cref="ServerErrorException">The server sent an error frame.</exception>
    /// <exception cref="ServerClosedException">The server reset the connection or closed it before messages sent after that were read.</exception>
    /// <exception cref="NotAcknowledgedException">With acknowledgements on: some message was not acknowledged in time, or the server closed without acknowledging it.</exception>
    /// <exception cref="TalkTimeoutException">The server did not close in time.</exception>
    public async Task CompleteAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        var watcher = Watcher;
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
            await watcher.WaitForAcknowledgementsAsync(cancellationToken).ConfigureAwait(false);
        }

        try
        {
            await watcher.Reading.WaitAsync(_options.ResponseTimeout, _options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TalkTimeoutException($"server did not close the connection within {DurationText.Format(_options.ResponseTimeout)} after the last message");
        }

        watcher.ThrowIfServerGone(beforeSending: false);

        // The server's FIN can be seen before the reset its kernel sends for data that arrived after it closed: a
        // pending socket error still tells that something sent was never read.
        if (reset || PendingError() is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
        {
            throw new ServerClosedException(
                $"server reset the connection: it closed without reading everything sent ({MessagesSent} message(s) sent)");
        }
    }

    /// <summary>Throws what the server did once <see cref="ServerClosed"/> completed: its error frame, reset, or close.</summary>
    internal void ThrowServerGone()
    {
        Watcher.ThrowIfServerGone(beforeSending: true);
        throw new ServerClosedException($"server closed the connection after {MessagesSent} message(s)");
    }

    /// <summary>Closes the connection (without waiting for the server, unless <see cref="CompleteAsync"/> was called).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _watcher?.Stop();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        if (_watcher is not null)
        {
            await _watcher.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// True when the socket is readable with nothing to read, as it is once the server's FIN or reset has arrived.
    /// Only a hint: data arriving between the two checks (an ack the watcher takes at once) looks the same for a moment.
    /// </summary>
    private bool ServerCloseMayBeUntaken() => _socket.Available == 0 && _socket.Poll(0, SelectMode.SelectRead);

    /// <summary>
    /// Waits, at most <see cref="TalkClientOptions.ResponseTimeout"/>, until the watcher has ended or the socket no
    /// longer looks closed; never throws.
    /// </summary>
    private async Task WaitForWatcherToTakeCloseAsync(ServerFrameWatcher watcher, CancellationToken cancellationToken)
    {
        using var bound = new CancellationTokenSource(_options.ResponseTimeout, _options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, bound.Token);
        while (!watcher.Reading.IsCompleted && !linked.IsCancellationRequested && ServerCloseMayBeUntaken())
        {
            // Checked again, not waited on once: an ack that arrived between Available and Poll made the socket
            // readable too, and waiting for the watcher to end would then wait for a close that may never come (the
            // server waits for this very message). A FIN keeps the socket readable and empty until the watcher ends;
            // data stops looking like a close as soon as the watcher has read it. Real time: this polls the socket.
            await Task.WhenAny(watcher.Reading, Task.Delay(CloseRecheckInterval, linked.Token)).ConfigureAwait(false);
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
            // The TLS session already broke; the watcher has seen it and CompleteAsync reports it.
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
}
