using System.Net;
using System.Net.Sockets;

namespace TcpTalk.Protocol;

/// <summary>How a peer's address is shown to people: in the greeting, the output and the logs.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The address as people expect to read it: an IPv4 client that reached a dual-mode IPv6 socket
    /// (<c>::ffff:127.0.0.1</c>) is shown as plain IPv4 (<c>127.0.0.1</c>); everything else is unchanged.
    /// </summary>
    public static IPAddress Normalize(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6
            ? address.MapToIPv4()
            : address;
    }

    /// <summary>
    /// <c>address:port</c> with IPv6 addresses in brackets (<c>[::1]:5000</c>), after <see cref="Normalize"/>.
    /// </summary>
    public static string FormatEndpoint(IPAddress address, int port)
    {
        var shown = Normalize(address);
        return shown.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{shown}]:{port}" : $"{shown}:{port}";
    }

    /// <summary><see cref="FormatEndpoint(IPAddress, int)"/> for an <see cref="IPEndPoint"/>.</summary>
    public static string FormatEndpoint(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return FormatEndpoint(endpoint.Address, endpoint.Port);
    }
}
