using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// Binds a unix-domain listening socket on a path: replaces a stale socket file (one nobody listens on, left by a
/// server that was killed) and refuses a path another server listens on; gives the file its mode.
/// </summary>
internal static class UnixSocketListener
{
    /// <summary>Binds, sets the file mode, listens.</summary>
    /// <exception cref="ListenException">The path is taken by a live server, its directory is missing or not writable, or it is no socket.</exception>
    public static BoundListener Bind(string path, TalkServerOptions options)
    {
        string name = UnixSocketPath.Format(path);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            var endpoint = new UnixDomainSocketEndPoint(path);
            try
            {
                socket.Bind(endpoint);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
                RemoveIfStale(path, name, e);
                socket.Bind(endpoint);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, options.UnixSocketMode);
            }

            socket.Listen(options.ListenBacklog);
            return BoundListener.ForUnix(socket, path, inherited: false, ownsFile: true);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw e.SocketErrorCode switch
            {
                SocketError.AccessDenied => new ListenException($"permission denied to create {name} (the directory must be writable by the server's user)", e),
                SocketError.AddressNotAvailable or SocketError.InvalidArgument => new ListenException($"cannot listen on {name}: its directory does not exist", e),
                _ => new ListenException($"cannot listen on {name}: {e.Message}", e),
            };
        }
        catch (Exception e) when (e is (IOException and not ListenException) or UnauthorizedAccessException)
        {
            socket.Dispose();
            throw new ListenException($"cannot set the mode of {name}: {e.Message}", e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Removes the file at <paramref name="path"/> when it is a stale socket: a connect to it is refused. A file
    /// that accepts the connection belongs to a running server; a non-empty file is no socket; both are left alone.
    /// </summary>
    private static void RemoveIfStale(string path, string name, SocketException inUse)
    {
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new ListenException($"{name} is already in use: another server listens on it", inUse);
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nobody listens: a socket file left by a server that did not stop cleanly.
            }
            catch (SocketException e)
            {
                throw new ListenException($"{name} exists and cannot be checked ({e.SocketErrorCode}); remove it if no server uses it", e);
            }
        }

        // A socket file has no length; a regular file a user put there does (an empty one is taken for a socket:
        // stat's file type is not reachable without native code here).
        var file = new FileInfo(path);
        if (file.Exists && file.Length > 0)
        {
            throw new ListenException($"{name} exists and is not a socket; remove it or choose another path", inUse);
        }

        File.Delete(path);
    }
}
