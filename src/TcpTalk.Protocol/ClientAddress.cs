using System.Net;
using System.Net.Sockets;

namespace TcpTalk.Protocol;

/// <summary>How a peer's address is shown to people: in the greeting, the output and the logs.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The most characters an address takes as text: 45 for the longest IPv6 form, 11 more for a scope id
    /// (<c>%4294967295</c>), which link-local clients have.
    /// </summary>
    public const int MaxAddressChars = 45 + 11;

    /// <summary>The most bytes <see cref="TryFormatEndpoint"/> writes: brackets, the address, a colon and a 5-digit port.</summary>
    public const int MaxEndpointBytes = 1 + MaxAddressChars + 1 + 1 + 5;

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

    /// <summary>
    /// Writes <see cref="FormatEndpoint(IPAddress, int)"/>'s text as UTF-8 into <paramref name="destination"/> (<see cref="MaxEndpointBytes"/>
    /// always suffice) without allocating; the address is taken as already normalised.
    /// </summary>
    public static bool TryFormatEndpoint(IPAddress address, int port, Span<byte> destination, out int written)
    {
        ArgumentNullException.ThrowIfNull(address);
        written = 0;
        bool v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        int at = 0;
        if (v6)
        {
            if (destination.IsEmpty)
            {
                return false;
            }

            destination[at++] = (byte)'[';
        }

        if (!address.TryFormat(destination[at..], out int length))
        {
            return false;
        }

        at += length;
        if (v6)
        {
            if (at >= destination.Length)
            {
                return false;
            }

            destination[at++] = (byte)']';
        }

        if (at >= destination.Length)
        {
            return false;
        }

        destination[at++] = (byte)':';
        if (!port.TryFormat(destination[at..], out length, provider: System.Globalization.CultureInfo.InvariantCulture))
        {
            return false;
        }

        written = at + length;
        return true;
    }

    /// <summary><see cref="FormatEndpoint(IPAddress, int)"/> for an <see cref="IPEndPoint"/>.</summary>
    public static string FormatEndpoint(IPEndPoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return FormatEndpoint(endpoint.Address, endpoint.Port);
    }
}
