using System.Net;
using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// One listening socket the server accepts on, with what it needs to name its connections and to clean up: a unix
/// socket's path, and whether the server made the socket's file (then it removes it at stop; never one systemd made).
/// </summary>
internal sealed class BoundListener : IDisposable
{
    private BoundListener(Socket socket, IPEndPoint? ipEndpoint, string? unixPath, bool inherited, bool ownsFile)
    {
        Socket = socket;
        IPEndpoint = ipEndpoint;
        UnixPath = unixPath;
        Inherited = inherited;
        OwnsFile = ownsFile;
        Name = unixPath is null ? ClientAddress.FormatEndpoint(ipEndpoint!) : UnixSocketPath.Format(unixPath);
    }

    /// <summary>The listening socket.</summary>
    public Socket Socket { get; }

    /// <summary>The bound IP endpoint (the OS-chosen port filled in); null for a unix socket.</summary>
    public IPEndPoint? IPEndpoint { get; }

    /// <summary>A unix socket's path (empty when it has none); null for TCP.</summary>
    public string? UnixPath { get; }

    /// <summary>Whether systemd (or another parent) passed the socket in, rather than the server binding it.</summary>
    public bool Inherited { get; }

    /// <summary>Whether the server created the unix socket's file and so removes it when it stops.</summary>
    public bool OwnsFile { get; }

    /// <summary><c>127.0.0.1:12345</c> or <c>unix:/run/tcptalk.sock</c>: how logs name the listener.</summary>
    public string Name { get; }

    /// <summary>For the "Listening on" line: the name, <c>(IPv6 and IPv4)</c> for a dual-stack socket, <c>(from systemd)</c> when inherited.</summary>
    public string Description
    {
        get
        {
            string text = Name;
            if (Socket.AddressFamily == AddressFamily.InterNetworkV6 && Socket.DualMode)
            {
                text += " (IPv6 and IPv4)";
            }

            return Inherited ? text + " (from systemd)" : text;
        }
    }

    /// <summary>A TCP listener.</summary>
    public static BoundListener ForTcp(Socket socket, bool inherited) =>
        new(socket, (IPEndPoint)socket.LocalEndPoint!, unixPath: null, inherited, ownsFile: false);

    /// <summary>A unix socket listener on <paramref name="path"/>.</summary>
    public static BoundListener ForUnix(Socket socket, string path, bool inherited, bool ownsFile) =>
        new(socket, ipEndpoint: null, path, inherited, ownsFile);

    /// <summary>Closes the socket and removes the socket file the server made (a missing file is no error).</summary>
    public void Dispose()
    {
        Socket.Dispose();
        if (OwnsFile && !string.IsNullOrEmpty(UnixPath))
        {
            try
            {
                File.Delete(UnixPath);
            }
            catch (IOException)
            {
                // Best effort: a file left behind is stale, and the next start replaces it.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
