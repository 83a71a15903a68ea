using System.Net;
using System.Net.Sockets;

namespace TcpTalk.Client;

/// <summary>Turns a host name into addresses. Replaceable so tests never depend on real DNS.</summary>
public interface IHostResolver
{
    /// <summary>All addresses of <paramref name="host"/>, IPv4 and IPv6; throws <see cref="HostNotFoundException"/> when there are none.</summary>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken);
}

/// <summary>The operating system's resolver (hosts file, DNS), asking for A and AAAA records together.</summary>
public sealed class SystemHostResolver : IHostResolver
{
    /// <summary>The shared instance.</summary>
    public static SystemHostResolver Instance { get; } = new();

    /// <inheritdoc/>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (IPAddress.TryParse(host, out var literal))
        {
            return [literal];
        }

        IPAddress[] addresses;
        try
        {
            addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain)
        {
            throw new HostNotFoundException(host, e);
        }

        return addresses.Length == 0 ? throw new HostNotFoundException(host) : addresses;
    }
}
