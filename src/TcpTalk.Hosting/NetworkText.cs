using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TcpTalk.Hosting;

/// <summary>
/// Client addresses and networks as users type them in every verb: <c>192.0.2.7</c>, <c>2001:db8::1</c>,
/// <c>[::1]</c> (one address) or <c>192.0.2.0/24</c>, <c>2001:db8::/32</c> (a network).
/// </summary>
public static class NetworkText
{
    /// <summary>
    /// Parses <paramref name="text"/>. With <paramref name="maskHostBits"/> the bits after the prefix are cleared
    /// (<c>192.0.2.7/24</c> means <c>192.0.2.0/24</c>, handy for "messages from around here"); without it they are an
    /// error, because an access rule that says more than it means is a mistake worth showing.
    /// </summary>
    public static bool TryParse(string text, bool maskHostBits, out IPNetwork network, out string? error)
    {
        network = default;
        text = text.Trim();
        string address = text;
        int? prefix = null;
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            address = text[..slash];
            if (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int bits))
            {
                error = "the prefix length after '/' is not a number";
                return false;
            }

            prefix = bits;
        }

        if (address.StartsWith('[') && address.EndsWith(']'))
        {
            address = address[1..^1];
        }

        if (!IPAddress.TryParse(address, out var ip))
        {
            error = "not an IP address or network (examples: 192.0.2.7, 2001:db8::1, 192.0.2.0/24)";
            return false;
        }

        int maxBits = ip.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        int length = prefix ?? maxBits;
        if (length < 0 || length > maxBits)
        {
            error = $"the prefix length must be between 0 and {maxBits}";
            return false;
        }

        var masked = Mask(ip, length);
        if (!maskHostBits && !masked.Equals(ip))
        {
            error = $"bits are set after the /{length} prefix (did you mean {masked}/{length}?)";
            return false;
        }

        network = new IPNetwork(masked, length);
        error = null;
        return true;
    }

    private static IPAddress Mask(IPAddress address, int bits)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int i = 0; i < bytes.Length; i++)
        {
            int keep = Math.Clamp(bits - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
