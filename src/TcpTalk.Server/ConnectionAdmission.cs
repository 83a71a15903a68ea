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
    /// per-address slot, which <see cref="Release"/> gives back.
    /// </summary>
    public ConnectionRefusal? Check(ConnectionInfo info, int open, TalkServerOptions options)
    {
        var address = info.RemoteAddress;
        if (options.Deny.Count > 0 && options.Deny.Any(n => n.Contains(address)))
        {
            return ConnectionRefusal.Denied;
        }

        if (options.Allow.Count > 0 && !options.Allow.Any(n => n.Contains(address)))
        {
            return ConnectionRefusal.NotAllowed;
        }

        int max = options.MaxConnections;
        if (max > 0 && open >= max)
        {
            return new($"server busy: {max} connections open (the limit); try again later", Silent: false, "max_connections");
        }

        int limit = options.MaxConnectionsPerAddress;
        if (_perAddress.AddOrUpdate(address, 1, static (_, n) => n + 1) > limit && limit > 0)
        {
            _perAddress.AddOrUpdate(address, 0, static (_, n) => n - 1);
            return new($"too many connections from {address}: {limit} open (the limit)", Silent: false, "max_connections_per_address");
        }

        return null;
    }

    /// <summary>Gives back the per-address slot of a served connection that closed.</summary>
    public void Release(IPAddress address)
    {
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
