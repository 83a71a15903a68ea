using System.Net;
using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>Binds the server's listening sockets from its options (or takes the inherited ones), and names them for the log.</summary>
internal static class ListenerBinding
{
    /// <summary>
    /// The sockets of <see cref="TalkServerOptions.InheritedListeners"/> when there are any (systemd socket
    /// activation: nothing is bound then); else binds every endpoint of <see cref="TalkServerOptions.Listen"/>
    /// (IP and unix), or, when it is empty, the dual-stack wildcard on <see cref="TalkServerOptions.Port"/> (IPv4
    /// only where IPv6 is disabled). All or nothing: on failure the sockets already bound are closed.
    /// </summary>
    /// <exception cref="ListenException">A listener could not be bound (<see cref="AddressInUseException"/> when taken), or an inherited one is not a listening stream socket.</exception>
    public static List<BoundListener> BindAll(TalkServerOptions options)
    {
        var listeners = new List<BoundListener>();
        try
        {
            if (options.InheritedListeners.Count > 0)
            {
                listeners.AddRange(options.InheritedListeners.Select(Adopt));
            }
            else if (options.Listen.Count == 0)
            {
                listeners.Add(BoundListener.ForTcp(BindDefault(options), inherited: false));
            }
            else
            {
                foreach (var endpoint in options.Listen)
                {
                    listeners.Add(endpoint switch
                    {
                        UnixDomainSocketEndPoint unix => UnixSocketListener.Bind(unix.ToString(), options),
                        IPEndPoint ip => BoundListener.ForTcp(Bind(ip, dualMode: ip.Address.Equals(IPAddress.IPv6Any), options), inherited: false),
                        _ => throw new ListenException($"cannot listen on {endpoint}: only IP and unix socket endpoints"),
                    });
                }
            }

            return listeners;
        }
        catch
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Takes an inherited socket as it is: systemd bound it and set its options (Backlog=, KeepAlive=, NoDelay= of the
    /// socket unit), so only its kind is checked.
    /// </summary>
    private static BoundListener Adopt(Socket socket)
    {
        bool listening;
        try
        {
            listening = socket.SocketType == SocketType.Stream
                && socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.AcceptConnection) is int accepting && accepting != 0;
        }
        catch (SocketException)
        {
            listening = false;
        }

        if (!listening)
        {
            throw new ListenException($"the inherited socket {socket.Handle} is not a listening stream socket (the socket unit needs ListenStream= and Accept=no)");
        }

        if (socket.AddressFamily == AddressFamily.Unix)
        {
            string path = socket.LocalEndPoint?.ToString() ?? string.Empty;
            return BoundListener.ForUnix(socket, path, inherited: true, ownsFile: false);
        }

        return BoundListener.ForTcp(socket, inherited: true);
    }

    private static Socket BindDefault(TalkServerOptions options)
    {
        if (Socket.OSSupportsIPv6)
        {
            try
            {
                return Bind(new IPEndPoint(IPAddress.IPv6Any, options.Port), dualMode: true, options);
            }
            catch (ListenException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressFamilyNotSupported })
            {
                // IPv6 is compiled in but disabled: fall back to IPv4 below.
            }
        }

        return Bind(new IPEndPoint(IPAddress.Any, options.Port), dualMode: false, options);
    }

    private static Socket Bind(IPEndPoint endpoint, bool dualMode, TalkServerOptions options)
    {
        Socket? socket = null;
        try
        {
            socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (dualMode)
            {
                socket.DualMode = true;
            }
            else if (endpoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(endpoint);
            if (options.KeepAliveTime > TimeSpan.Zero)
            {
                // Set once on the listener: accepted sockets inherit it, which saves system calls per connection.
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (int)options.KeepAliveTime.TotalSeconds);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, (int)options.KeepAliveInterval.TotalSeconds);
                socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, options.KeepAliveCount);
            }

            socket.Listen(options.ListenBacklog);
            return socket;
        }
        catch (SocketException e)
        {
            socket?.Dispose();
            throw ListenException.FromSocketError(endpoint, e);
        }
    }
}
