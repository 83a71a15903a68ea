using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>
/// Resolves a host and connects to the first of its addresses that answers (<see cref="HappyEyeballs"/>), the whole
/// within <see cref="TalkClientOptions.ConnectTimeout"/>; a host spelled <c>unix:/path</c> is a unix socket (<see cref="UnixConnector"/>).
/// </summary>
internal static class TcpConnector
{
    /// <exception cref="HostNotFoundException">The name has no address.</exception>
    /// <exception cref="ConnectFailedException">Every address refused or was unreachable.</exception>
    /// <exception cref="TalkTimeoutException">No address answered in time.</exception>
    public static async Task<Socket> ConnectAsync(string host, int port, TalkClientOptions options, CancellationToken cancellationToken)
    {
        if (UnixSocketPath.IsUnixAddress(host))
        {
            if (!UnixSocketPath.TryParse(host, out string path, out string? problem))
            {
                throw new ArgumentException(problem, nameof(host));
            }

            return await UnixConnector.ConnectAsync(path, options, cancellationToken).ConfigureAwait(false);
        }

        using var connectTimeout = new CancellationTokenSource(options.ConnectTimeout, options.TimeProvider);
        using var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, connectTimeout.Token);
        try
        {
            var addresses = await options.Resolver.ResolveAsync(host, connect.Token).ConfigureAwait(false);
            if (addresses.Length == 0)
            {
                throw new HostNotFoundException(host);
            }

            return await HappyEyeballs.ConnectAsync(addresses, port, options, connect.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (connectTimeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TalkTimeoutException($"no answer from {new HostAndPort(host, port)} within {DurationText.Format(options.ConnectTimeout)}");
        }
    }
}
