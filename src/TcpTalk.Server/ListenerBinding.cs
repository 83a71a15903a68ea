using System.Net;
using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>Binds the server's listening sockets from its options, and names them for the log.</summary>
internal static class ListenerBinding
{
    /// <summary>
    /// Binds every endpoint of <see cref="TalkServerOptions.Listen"/>, or, when it is empty, the dual-stack wildcard on
    /// <see cref="TalkServerOptions.Port"/> (IPv4 only where IPv6 is disabled). All or nothing: on failure the
    /// sockets already bound are closed.
    /// </summary>
    /// <exception cref="ListenException">A listener could not be bound (<see cref="AddressInUseException"/> when taken).</exception>
    public static List<Socket> BindAll(TalkServerOptions options)
    {
        var listeners = new List<Socket>();
        try
        {
            if (options.Listen.Count == 0)
            {
                listeners.Add(BindDefault(options));
            }
            else
            {
                foreach (var endpoint in options.Listen)
                {
                    listeners.Add(Bind(endpoint, dualMode: endpoint.Address.Equals(IPAddress.IPv6Any), options));
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

    /// <summary><c>[::]:12345 (IPv6 and IPv4)</c> for a dual-stack listener, otherwise the endpoint alone.</summary>
    public static string Describe(Socket listener, IPEndPoint endpoint)
    {
        string text = ClientAddress.FormatEndpoint(endpoint);
        return listener.AddressFamily == AddressFamily.InterNetworkV6 && listener.DualMode ? text + " (IPv6 and IPv4)" : text;
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
