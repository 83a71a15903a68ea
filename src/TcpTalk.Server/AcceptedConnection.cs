using System.Net;
using System.Net.Sockets;
using TcpTalk.Messages;

namespace TcpTalk.Server;

/// <summary>Names an accepted socket's connection by its five parts.</summary>
internal static class AcceptedConnection
{
    /// <summary>
    /// Describes the connection from an accepted socket. A listener bound to one address already names the local
    /// endpoint, which saves a getsockname call per connection; a wildcard listener has to ask. A unix-socket
    /// connection is named by the listener's path and the peer's credentials (<see cref="PeerCredentials"/>).
    /// </summary>
    /// <exception cref="SocketException">The socket was closed before its endpoints could be read.</exception>
    public static ConnectionInfo Describe(long id, Socket socket, BoundListener listener)
    {
        if (listener.UnixPath is { } path)
        {
            return new(id, path, PeerCredentials.Read(socket));
        }

        var endpoint = listener.IPEndpoint!;
        bool wildcard = endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any);
        var local = wildcard ? (IPEndPoint)socket.LocalEndPoint! : endpoint;
        return new(id, local, (IPEndPoint)socket.RemoteEndPoint!);
    }
}
