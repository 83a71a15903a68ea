using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>Connects to a unix-domain socket by path (<c>unix:/run/tcptalk.sock</c>) within <see cref="TalkClientOptions.ConnectTimeout"/>.</summary>
internal static class UnixConnector
{
    /// <exception cref="ConnectFailedException">No server listens on the path, it does not exist, or the client may not connect to it.</exception>
    /// <exception cref="TalkTimeoutException">The server did not accept in time (its backlog is full).</exception>
    public static async Task<Socket> ConnectAsync(string path, TalkClientOptions options, CancellationToken cancellationToken)
    {
        string name = UnixSocketPath.Format(path);
        using var connectTimeout = new CancellationTokenSource(options.ConnectTimeout, options.TimeProvider);
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectTimeout.Token);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), connect.Token).ConfigureAwait(false);
            return socket;
        }
        catch (OperationCanceledException) when (connectTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TalkTimeoutException($"no answer from {name} within {DurationText.Format(options.ConnectTimeout)}");
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => new ConnectFailedException($"connection refused by {name} (no server listens on that socket?)", e.SocketErrorCode, e),
                SocketError.AddressNotAvailable => new ConnectFailedException($"could not connect to {name}: no such socket file", e.SocketErrorCode, e),
                SocketError.AccessDenied => new ConnectFailedException($"could not connect to {name}: permission denied (the socket's file mode)", e.SocketErrorCode, e),
                _ => new ConnectFailedException($"could not connect to {name}: {e.Message}", e.SocketErrorCode, e),
            };
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
