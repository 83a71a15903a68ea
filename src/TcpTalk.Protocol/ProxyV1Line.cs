using System.Net;
using System.Net.Sockets;

namespace TcpTalk.Protocol;

/// <summary>
/// The v1 (text) PROXY header: <c>PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n</c> or <c>PROXY UNKNOWN[ anything]\r\n</c>,
/// at most <see cref="ProxyHeaderParser.V1MaxLineBytes"/> bytes with the CRLF.
/// </summary>
/// <remarks>
/// Strict, as the specification asks ("any sequence which does not exactly match the protocol must be discarded"):
/// exactly one space between fields, ports and IPv4 octets in decimal without leading zeros, the line ended by CRLF
/// and nothing else. IPv6 addresses are the RFC 4291 text forms senders really write (nginx and haproxy print
/// <c>::1</c>, not four digits per group): hex groups, one <c>::</c>, an embedded dotted IPv4 tail; no zone, no brackets.
/// </remarks>
internal static class ProxyV1Line
{
    private const int LongestIPv6Text = 45; // ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255

    private static ReadOnlySpan<byte> Prefix => "PROXY "u8;

    /// <summary>The header at the start of <paramref name="buffer"/> (which starts with 'P'), or null when more bytes are needed.</summary>
    public static ProxyHeader? TryParse(ReadOnlySpan<byte> buffer)
    {
        int known = Math.Min(buffer.Length, 5);
        if (!buffer[..known].SequenceEqual(Prefix[..known]))
        {
            throw ProxyHeaderParser.NotAHeader(buffer);
        }

        if (buffer.Length > 5 && buffer[5] != (byte)' ')
        {
            throw Malformed("'PROXY' is not followed by a space", buffer);
        }

        // Only the first 107 bytes can hold the line's end; the receiver must wait for it before decoding anything.
        var window = buffer.Length > ProxyHeaderParser.V1MaxLineBytes ? buffer[..ProxyHeaderParser.V1MaxLineBytes] : buffer;
        int lineFeed = window.IndexOf((byte)'\n');
        if (lineFeed < 0)
        {
            if (buffer.Length >= ProxyHeaderParser.V1MaxLineBytes)
            {
                throw new ProxyHeaderException(ProxyHeaderError.V1TooLong,
                    $"v1 line without CRLF in its first {ProxyHeaderParser.V1MaxLineBytes} bytes (the limit)", buffer);
            }

            return null;
        }

        if (lineFeed == 0 || buffer[lineFeed - 1] != (byte)'\r')
        {
            throw Malformed("v1 line ends with a bare LF, not CRLF", buffer);
        }

        var fields = buffer[Prefix.Length..(lineFeed - 1)];
        int length = lineFeed + 1;
        if (fields.StartsWith("UNKNOWN"u8) && (fields.Length == 7 || fields[7] == (byte)' '))
        {
            // "the receiver must ignore anything presented before the CRLF is found"
            return new ProxyHeader(1, ProxyCommand.Proxy, ProxyAddressFamily.Unspecified, ProxyTransport.Unspecified, null, null, null, length);
        }

        bool v4 = fields.StartsWith("TCP4 "u8);
        if (!v4 && !fields.StartsWith("TCP6 "u8))
        {
            throw Malformed("v1 protocol is none of TCP4, TCP6, UNKNOWN", buffer);
        }

        var rest = fields[5..];
        if (!NextField(ref rest, out var sourceText) || !NextField(ref rest, out var destinationText)
            || !NextField(ref rest, out var sourcePortText) || rest.IsEmpty || rest.Contains((byte)' '))
        {
            throw Malformed("v1 line has not exactly four fields after the protocol, one space apart", buffer);
        }

        var source = v4 ? ParseIPv4(sourceText) : ParseIPv6(sourceText);
        var destination = v4 ? ParseIPv4(destinationText) : ParseIPv6(destinationText);
        if (source is null || destination is null)
        {
            throw Malformed($"v1 address is not {(v4 ? "a dotted IPv4 address" : "an IPv6 address")}", buffer);
        }

        int sourcePort = ParsePort(sourcePortText);
        int destinationPort = ParsePort(rest);
        if (sourcePort < 0 || destinationPort < 0)
        {
            throw Malformed("v1 port is not a decimal 0-65535 without leading zeros", buffer);
        }

        return new ProxyHeader(1, ProxyCommand.Proxy, v4 ? ProxyAddressFamily.InterNetwork : ProxyAddressFamily.InterNetworkV6,
            ProxyTransport.Stream, new IPEndPoint(source, sourcePort), new IPEndPoint(destination, destinationPort), null, length);
    }

    private static ProxyHeaderException Malformed(string problem, ReadOnlySpan<byte> buffer) =>
        new(ProxyHeaderError.V1Malformed, problem, buffer);

    /// <summary>Takes the text up to the next space (which must exist and follow a non-empty field).</summary>
    private static bool NextField(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        int space = rest.IndexOf((byte)' ');
        field = space > 0 ? rest[..space] : default;
        if (space <= 0)
        {
            return false;
        }

        rest = rest[(space + 1)..];
        return true;
    }

    /// <summary>Exactly four decimal octets 0-255, one dot apart, no leading zeros (they could be read as octal).</summary>
    private static IPAddress? ParseIPv4(ReadOnlySpan<byte> text)
    {
        Span<byte> octets = stackalloc byte[4];
        for (int i = 0; i < 4; i++)
        {
            int dot = text.IndexOf((byte)'.');
            var digits = i < 3 ? (dot < 0 ? default : text[..dot]) : text;
            int value = ParseDecimal(digits, 3);
            if (value is < 0 or > 255 || (i < 3 && dot < 0))
            {
                return null;
            }

            octets[i] = (byte)value;
            text = i < 3 ? text[(dot + 1)..] : default;
        }

        return new IPAddress(octets);
    }

    private static IPAddress? ParseIPv6(ReadOnlySpan<byte> text)
    {
        if (text.Length is < 2 or > LongestIPv6Text || text.ContainsAnyExcept("0123456789abcdefABCDEF:."u8))
        {
            return null;
        }

        Span<char> chars = stackalloc char[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            chars[i] = (char)text[i];
        }

        return IPAddress.TryParse(chars, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6 ? address : null;
    }

    private static int ParsePort(ReadOnlySpan<byte> text)
    {
        int value = ParseDecimal(text, 5);
        return value <= ushort.MaxValue ? value : -1;
    }

    /// <summary>1 to <paramref name="maxDigits"/> decimal digits, no leading zero unless the number is 0; -1 otherwise.</summary>
    private static int ParseDecimal(ReadOnlySpan<byte> digits, int maxDigits)
    {
        if (digits.IsEmpty || digits.Length > maxDigits || (digits[0] == (byte)'0' && digits.Length > 1))
        {
            return -1;
        }

        int value = 0;
        foreach (byte digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                return -1;
            }

            value = value * 10 + (digit - '0');
        }

        return value;
    }
}
