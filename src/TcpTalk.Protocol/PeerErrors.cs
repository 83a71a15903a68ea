using System.Net.Sockets;

namespace TcpTalk.Protocol;

/// <summary>Which socket errors mean the peer is gone, the one list the server and the client both use.</summary>
public static class PeerErrors
{
    /// <summary>
    /// Whether <paramref name="error"/> means the other end is gone (reset, aborted, shut down, or found dead by
    /// keepalive: timed out or unreachable) rather than a fault of this process. The server logs such a close at
    /// Debug; the client reports it as the server closing the connection.
    /// </summary>
    public static bool MeanPeerGone(SocketError error) => error is SocketError.ConnectionReset
        or SocketError.ConnectionAborted or SocketError.Shutdown or SocketError.NetworkReset or SocketError.NotConnected
        or SocketError.TimedOut or SocketError.HostUnreachable or SocketError.NetworkUnreachable;
}
