using System.Net;
using System.Net.Sockets;

namespace TcpTalk.FunctionalTests.Infrastructure;

/// <summary>A loopback port free right now (for programs that cannot bind port 0 and report it).</summary>
public static class FreePort
{
    public static int Get()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
