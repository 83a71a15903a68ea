using System.Buffers;
using System.Net;
using System.Net.Sockets;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// The PROXY protocol side of a server with <see cref="TalkServerOptions.TrustedProxies"/>: says which connections
/// must begin with a header, reads that header off the socket within <see cref="TalkServerOptions.ProxyHeaderTimeout"/>,
/// and counts and logs (at most once a second) the connections refused for theirs.
/// </summary>
/// <remarks>
/// <para>
/// The header is taken off the socket exactly, never a byte more, so what follows it (messages, or a TLS ClientHello)
/// is still in the socket for the transport: bytes are first peeked (<c>MSG_PEEK</c>), and only the header's are
/// received. While the parser needs more, every byte peeked so far belongs to the header (a v1 line has not reached
/// its CRLF; a v2 header has not reached its length, or the signature's 16 bytes), so those are received too, and the
/// next wait is for new bytes, never a spin on the ones already seen.
/// </para>
/// <para>
/// The reasons counted (metric tag <c>reason</c> of <c>tcptalk.server.proxy_header_rejected</c>) are the parser's
/// (<see cref="ProxyHeaderErrors.Name"/>: <c>not_proxy_header</c> for a connection that starts with anything else,
/// <c>v1_too_long</c>, <c>v1_malformed</c>, <c>v2_*</c>), plus <c>timeout</c> (not complete within the timeout) and
/// <c>closed</c> (the peer closed or reset before the header was complete).
/// </para>
/// </remarks>
internal sealed class ProxyHeaderReader(TalkServerOptions options, ServerMetrics metrics)
{
    /// <summary>The reason tag of a header not complete within the timeout.</summary>
    public const string TimeoutReason = "timeout";

    /// <summary>The reason tag of a peer that closed or reset before its header was complete.</summary>
    public const string ClosedReason = "closed";

    private readonly System.Net.IPNetwork[] _trusted = [.. options.TrustedProxies];
    private readonly TimeSpan _timeout = options.ProxyHeaderTimeout;
    private readonly TimeProvider _time = options.TimeProvider;
    private readonly OncePerSecond _refusals = new(options.TimeProvider);
    private readonly ProxyHeaderParser _parser = ProxyHeaderParser.Default;

    /// <summary>The reader of a server with trusted proxies, or null when it trusts none.</summary>
    public static ProxyHeaderReader? For(TalkServerOptions options, ServerMetrics metrics) =>
        options.TrustedProxies.Count == 0 ? null : new ProxyHeaderReader(options, metrics);

    /// <summary>Whether a connection from <paramref name="address"/> (as <see cref="ConnectionInfo"/> shows it) must begin with a header.</summary>
    public bool Trusts(IPAddress address)
    {
        foreach (var network in _trusted)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Reads the header that must open <paramref name="socket"/>, the connection described by <paramref name="real"/>.
    /// Returns it, or null when the connection is refused for it (counted and logged here; the caller closes it
    /// without a word).
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="stopping"/> was cancelled: the server stops.</exception>
    public async Task<ProxyHeader?> ReadAsync(Socket socket, ConnectionInfo real, ConnectionContext context, CancellationToken stopping)
    {
        using var deadline = new CancellationTokenSource(_timeout, _time);
        using var stop = stopping.UnsafeRegister(static state => ((CancellationTokenSource)state!).Cancel(), deadline);
        string reason;
        string problem;
        try
        {
            return await ReadExactlyTheHeaderAsync(socket, deadline.Token).ConfigureAwait(false);
        }
        catch (ProxyHeaderException e)
        {
            reason = ProxyHeaderErrors.Name(e.Reason);
            problem = e.Message;
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            reason = TimeoutReason;
            problem = $"no complete PROXY header within {DurationText.Format(_timeout)} (proxy header timeout)";
        }
        catch (SocketException e) when (PeerErrors.MeanPeerGone(e.SocketErrorCode))
        {
            reason = ClosedReason;
            problem = "the peer reset the connection before its PROXY header was complete";
        }
        catch (PeerClosedException e)
        {
            reason = ClosedReason;
            problem = e.Message;
        }

        DiscardUnread(socket);
        metrics.ProxyHeaderRejected(reason);
        if (_refusals.TryCount(out long count))
        {
            ServerLog.ProxyHeaderRefused(context.Logger, real.Id, real.Remote, problem, count);
        }

        return null;
    }

    private async Task<ProxyHeader> ReadExactlyTheHeaderAsync(Socket socket, CancellationToken cancellationToken)
    {
        bool blocking = socket.Blocking;
        socket.Blocking = false;
        byte[]? buffer = null;
        int have = 0; // header bytes already taken off the socket, at the start of buffer
        try
        {
            while (true)
            {
                await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                buffer ??= ArrayPool<byte>.Shared.Rent(_parser.MaxHeaderBytes);
                int peeked = socket.Receive(buffer.AsSpan(have, _parser.MaxHeaderBytes - have), SocketFlags.Peek, out var error);
                if (error == SocketError.WouldBlock)
                {
                    continue;
                }

                if (error != SocketError.Success)
                {
                    throw new SocketException((int)error);
                }

                if (peeked == 0)
                {
                    throw new PeerClosedException(have == 0
                        ? "the peer closed the connection without sending a PROXY header"
                        : $"the peer closed the connection after {have} byte(s) of a PROXY header");
                }

                if (_parser.TryParse(buffer.AsSpan(0, have + peeked), out var header))
                {
                    Take(socket, buffer, have, header.Length - have);
                    return header;
                }

                // Not complete: every byte so far is the header's (see the remarks), and the parser refuses one that
                // grows past its limit, so the buffer never fills up.
                Take(socket, buffer, have, peeked);
                have += peeked;
            }
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            socket.Blocking = blocking;
        }
    }

    /// <summary>
    /// Reads off what the refused peer sent so far (peeked, not taken), at most 64 KiB, so that closing sends a FIN and
    /// not the reset that closing with unread bytes causes. Whatever arrives later still meets a reset.
    /// </summary>
    private static void DiscardUnread(Socket socket)
    {
        try
        {
            socket.Blocking = false;
            Span<byte> scratch = stackalloc byte[4096];
            for (int i = 0; i < 16 && socket.Receive(scratch, SocketFlags.None, out var error) > 0 && error == SocketError.Success; i++)
            {
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    /// <summary>Receives <paramref name="count"/> bytes that a peek has shown are in the socket already.</summary>
    private static void Take(Socket socket, byte[] buffer, int at, int count)
    {
        while (count > 0)
        {
            int received = socket.Receive(buffer, at, count, SocketFlags.None, out var error);
            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }

            if (received == 0)
            {
                throw new PeerClosedException("the peer closed the connection in the middle of its PROXY header");
            }

            at += received;
            count -= received;
        }
    }

    /// <summary>The peer closed before its header was complete.</summary>
    private sealed class PeerClosedException(string message) : Exception(message);
}
