using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// Decides whether an accepted connection may be served (access control, then the connection limits) and closes the
/// ones that may not. Keeps the per-address counts that <see cref="TalkServerOptions.MaxConnectionsPerAddress"/> needs.
/// </summary>
internal sealed class ConnectionAdmission
{
    // Always counted, so that a reload that sets a per-address limit counts the connections already open.
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private readonly OncePerSecond _refusalLog;
    private long _rejected;

    public ConnectionAdmission(TalkServerOptions options)
    {
        _refusalLog = new OncePerSecond(options.TimeProvider);
    }

    /// <summary>Connections refused since start.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>
    /// Why <paramref name="info"/> may not be served, or null; <paramref name="open"/> is the number of connections
    /// being served, <paramref name="options"/> the options current at its accept. A null answer reserves a
    /// per-address slot, which <see cref="Release"/> gives back. A unix-socket peer has no IP address: allow/deny and
    /// the per-address limit do not apply to it (the socket file's mode is its access control);
    /// <see cref="TalkServerOptions.MaxConnections"/> does.
    /// </summary>
    public ConnectionRefusal? Check(ConnectionInfo info, int open, TalkServerOptions options) => info.IsUnixSocket
        ? CheckCapacity(open, options)
        : CheckAccess(info.RemoteAddress, options) ?? CheckCapacity(open, options) ?? ReserveAddressSlot(info.RemoteAddress, options);

    /// <summary>
    /// The part of <see cref="Check"/> that does not depend on who the client is: <see cref="TalkServerOptions.MaxConnections"/>.
    /// A connection from a trusted proxy is checked with this at accept, and with <see cref="CheckClient"/> once its
    /// PROXY header has named the client.
    /// </summary>
    public static ConnectionRefusal? CheckCapacity(int open, TalkServerOptions options)
    {
        int max = options.MaxConnections;
        return max > 0 && open >= max
            ? new($"server busy: {max} connections open (the limit); try again later", Silent: false, "max_connections")
            : null;
    }

    /// <summary>
    /// The part of <see cref="Check"/> about the client: allow/deny, then its per-address slot (reserved on a null
    /// answer, like <see cref="Check"/>).
    /// </summary>
    public ConnectionRefusal? CheckClient(ConnectionInfo info, TalkServerOptions options) => info.IsUnixSocket
        ? null
        : CheckAccess(info.RemoteAddress, options) ?? ReserveAddressSlot(info.RemoteAddress, options);

    private static ConnectionRefusal? CheckAccess(IPAddress address, TalkServerOptions options)
    {
        if (options.Deny.Count > 0 && options.Deny.Any(n => n.Contains(address)))
        {
            return ConnectionRefusal.Denied;
        }

        if (options.Allow.Count > 0 && !options.Allow.Any(n => n.Contains(address)))
        {
            return ConnectionRefusal.NotAllowed;
        }

        return null;
    }

    private ConnectionRefusal? ReserveAddressSlot(IPAddress address, TalkServerOptions options)
    {
        int limit = options.MaxConnectionsPerAddress;
        if (_perAddress.AddOrUpdate(address, 1, static (_, n) => n + 1) > limit && limit > 0)
        {
            _perAddress.AddOrUpdate(address, 0, static (_, n) => n - 1);
            return new($"too many connections from {address}: {limit} open (the limit)", Silent: false, "max_connections_per_address");
        }

        return null;
    }

    /// <summary>Gives back the per-address slot of a served connection that closed (a unix-socket peer holds none).</summary>
    public void Release(ConnectionInfo info)
    {
        if (info.IsUnixSocket)
        {
            return;
        }

        var address = info.RemoteAddress;
        _perAddress.AddOrUpdate(address, 0, static (_, n) => n - 1);
        _perAddress.TryRemove(new KeyValuePair<IPAddress, int>(address, 0));
    }

    /// <summary>
    /// Closes a refused connection at once: with one error line when it is a limit (so the client knows to retry),
    /// without a word when access control refused it. Logged at Warning, at most once a second with a count, so a
    /// flood cannot flood the log. With TLS the line is never sent: a TLS client would take plain text for a broken
    /// handshake, and a handshake only to refuse would spend the CPU a flood is made to exhaust.
    /// </summary>
    public void Refuse(Socket socket, ConnectionInfo info, ConnectionRefusal refusal, ConnectionContext context)
    {
        Interlocked.Increment(ref _rejected);
        context.Metrics.Rejected(refusal.Kind);
        try
        {
            if (!refusal.Silent && context.Tls is null)
            {
                var frame = new System.Buffers.ArrayBufferWriter<byte>(128);
                ServerReply.WriteError(refusal.Reason, context.Framer, frame);
                socket.Blocking = false;
                socket.Send(frame.WrittenSpan, SocketFlags.None, out _);
            }
        }
        finally
        {
            socket.Dispose();
        }

        if (_refusalLog.TryCount(out long count))
        {
            ServerLog.ConnectionRefused(context.Logger, info.Remote, refusal.Reason, count);
        }
    }
}
