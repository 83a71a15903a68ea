using System.Buffers;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// Serves one accepted connection from accept to close: TLS handshake when configured, greeting, the receive loop
/// (<see cref="MessageReceiver"/>) until the client half-closes, then close. Every failure ends this connection
/// only, with the reason logged as its kind deserves (a peer reset at Debug, a refused message at Warning).
/// </summary>
/// <remarks>
/// The bytes come through a <see cref="ConnectionTransport"/>: the socket itself, or TLS over it. What it sends goes
/// through a <see cref="ConnectionWriter"/>, its timeouts are <see cref="ConnectionDeadlines"/> that the server's
/// sweep checks, and all it knows of the server is its <see cref="ConnectionContext"/>.
/// </remarks>
internal sealed class ConnectionHandler
{
    private static readonly TimeSpan RefusalDrainTime = TimeSpan.FromSeconds(1);

    private readonly ConnectionContext _context;
    private readonly Socket _socket;
    private readonly ConnectionTransport _transport;
    private readonly ConnectionDeadlines _deadlines;
    private readonly ConnectionWriter _writer;
    private readonly bool _awaitsProxyHeader;
    private ConnectionInfo _info;
    private MessageReceiver? _receiver;
    private volatile bool _stopRequested;

    /// <summary>
    /// Prepares to serve <paramref name="socket"/>. With <paramref name="awaitsProxyHeader"/> (a trusted proxy's
    /// connection) it must begin with a PROXY header, and <paramref name="info"/> names the balancer until it has.
    /// </summary>
    public ConnectionHandler(ConnectionContext context, Socket socket, ConnectionInfo info, bool awaitsProxyHeader = false)
    {
        _context = context;
        _socket = socket;
        _info = info;
        _awaitsProxyHeader = awaitsProxyHeader;
        HoldsAddressSlot = !awaitsProxyHeader;
        _transport = context.Tls is { } tls ? new TlsTransport(socket, tls, context.TimeProvider, context.Stopping) : new SocketTransport(socket);
        _deadlines = new ConnectionDeadlines(context.TimeProvider.GetTimestamp());
        _writer = new ConnectionWriter(_transport, context.Framer, _deadlines, context.TimeProvider);
        if (!awaitsProxyHeader)
        {
            _receiver = new MessageReceiver(context, info, _transport, _writer, _deadlines);
        }
    }

    /// <summary>The connection as it is served: after a PROXY header, the client and address it names.</summary>
    public ConnectionInfo Info => Volatile.Read(ref _info);

    /// <summary>
    /// Whether the connection holds a per-address slot of <see cref="ConnectionAdmission"/> for <see cref="Info"/>'s
    /// address, to give back when it closes: from the accept, or from its PROXY header's admission.
    /// </summary>
    public bool HoldsAddressSlot { get; private set; }

    /// <summary>Asks the connection to close at the next message boundary (at once if it is idle).</summary>
    public void RequestStop()
    {
        _stopRequested = true;
        Volatile.Read(ref _receiver)?.RequestStop();
    }

    /// <summary>Closes the socket now; a pending receive fails and the handler ends.</summary>
    public void Abort() => _socket.Dispose();

    /// <summary>
    /// Called by the server's sweep: closes the connection when one of its timeouts has passed. Returns the reason,
    /// or null when the connection is within its limits.
    /// </summary>
    public string? CheckTimeouts(long now)
    {
        var options = _context.Options;
        string? reason = _deadlines.TryExpire(now, _context.TimeProvider, options.IdleTimeout, options.MessageTimeout, options.WriteTimeout, out bool sendBlocked);
        if (reason is null)
        {
            return null;
        }

        try
        {
            if (sendBlocked)
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

    /// <summary>Serves the connection to its end. Never throws: every failure ends this connection only.</summary>
    public async Task RunAsync()
    {
        if (_awaitsProxyHeader && !await AcceptProxyHeaderAsync().ConfigureAwait(false))
        {
            _socket.Dispose();
            _context.Closed(this);
            return;
        }

        string reason = "client closed";
        var log = _context.Logger;
        bool debug = log.IsEnabled(LogLevel.Debug); // the arguments cost strings: build them only when logged
        bool handshaken = false;
        if (debug)
        {
            ServerLog.ConnectionOpened(log, Info.Id, Info.Protocol, Info.Local, Info.Remote);
        }

        _context.Metrics.Opened();

        try
        {
            await _transport.StartAsync().ConfigureAwait(false);
            handshaken = true;
            if (debug && _transport is TlsTransport tls)
            {
                ServerLog.TlsEstablished(log, Info.Id, Info.Remote, tls.Protocol.ToString(),
                    tls.ClientCertificate is { } certificate ? certificate.Subject : "none");
            }

            await _writer.SendGreetingAsync(_context.Greeting, Info).ConfigureAwait(false);
            reason = await _receiver!.ReceiveAsync().ConfigureAwait(false);
        }
        catch (MessageTooLongException e)
        {
            reason = "message too long";
            ServerLog.MessageRefused(log, Info.Id, Info.Remote, e.Message);
            await RefuseAsync(e.Message).ConfigureAwait(false);
        }
        catch (MalformedFrameException e)
        {
            // A length header that is not one, or a frame cut short by the client's close: the stream cannot resynchronise.
            reason = "malformed frame";
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
            reason = _deadlines.ExpiredBecause ?? e.Message;
            if (e.ClientCertificateRejected)
            {
                ServerLog.ClientCertificateRefused(log, Info.Id, Info.Remote, e.Message);
            }
            else if (!handshaken)
            {
                // An operator must see failing handshakes (a client without TLS, an expired CA, a scanner), but a
                // flood of them must not flood the log: Warning, at most once a second, with the count.
                if (_context.TlsFailures.TryCount(out long count))
                {
                    ServerLog.TlsHandshakeFailed(log, Info.Id, Info.Remote, e.Message, count);
                }
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
            reason = _deadlines.ExpiredBecause ?? "server stopped";
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
                ServerLog.ConnectionClosed(log, Info.Id, Info.Protocol, Info.Local, Info.Remote, _receiver!.Messages, _receiver.Bytes, reason);
            }

            _context.Metrics.Closed(_context.TimeProvider.GetElapsedTime(_deadlines.OpenedAt));
            _context.Closed(this);
        }
    }

    /// <summary>
    /// Reads the PROXY header a trusted proxy's connection begins with, makes the client it names the connection's
    /// (<see cref="Info"/>; v1 UNKNOWN and v2 LOCAL keep the socket's endpoints) and admits that client as the accept
    /// admits any other. False when the connection is not to be served: its header was refused (counted and logged by
    /// <see cref="ProxyHeaderReader"/>), the client was refused (<see cref="ConnectionAdmission.Refuse"/>), or the
    /// server stops. Nothing has been sent then, unless a limit's error line.
    /// </summary>
    private async Task<bool> AcceptProxyHeaderAsync()
    {
        var balancer = _info;
        ProxyHeader? header;
        try
        {
            header = await _context.ProxyHeaders!.ReadAsync(_socket, balancer, _context, _context.Stopping).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            return false; // the server stops (or aborted the socket): nothing to count
        }

        if (header is null)
        {
            return false;
        }

        if (header.Source is { } source)
        {
            Volatile.Write(ref _info, new ConnectionInfo(balancer.Id, header.Destination!, source) { UniqueId = header.UniqueId });
        }

        if (_context.Logger.IsEnabled(LogLevel.Debug))
        {
            ServerLog.ProxyHeaderAccepted(_context.Logger, balancer.Id, balancer.Remote, header.ToString());
        }

        var info = Info;
        if (_context.Admission.CheckClient(info, _context.Options) is { } refusal)
        {
            _context.Admission.Refuse(_socket, info, refusal, _context);
            return false;
        }

        HoldsAddressSlot = true;
        var receiver = new MessageReceiver(_context, info, _transport, _writer, _deadlines);
        Volatile.Write(ref _receiver, receiver);
        if (_stopRequested)
        {
            receiver.RequestStop();
        }

        return true;
    }

    /// <summary>
    /// Sends the error frame, half-closes, and reads and discards what the client still sends for a moment, so the
    /// error reaches it instead of being destroyed by the reset that closing with unread data would cause.
    /// </summary>
    private async Task RefuseAsync(string sentence)
    {
        try
        {
            await _writer.SendErrorAndShutdownAsync(sentence).ConfigureAwait(false);

            // What the client still sends is discarded, so it is read off the socket itself (TLS records unopened).
            using var drain = new CancellationTokenSource(RefusalDrainTime, _context.TimeProvider);
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
