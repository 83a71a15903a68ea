using System.Buffers.Binary;
using System.Text;

namespace TcpTalk.Protocol.Tests;

/// <summary>Builds PROXY headers byte by byte, as doc/proxy-protocol.txt draws them, for the parser's tests.</summary>
internal static class ProxyHeaderBuilder
{
    public static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    /// <summary>The v2 signature, the version/command and family/transport bytes, the length, then the body.</summary>
    public static byte[] V2(byte versionCommand, byte familyTransport, params byte[][] body)
    {
        int length = body.Sum(part => part.Length);
        var header = new byte[16 + length];
        ProxyHeaderParser.V2Signature.CopyTo(header);
        header[12] = versionCommand;
        header[13] = familyTransport;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(14), (ushort)length);
        int offset = 16;
        foreach (var part in body)
        {
            part.CopyTo(header, offset);
            offset += part.Length;
        }

        return header;
    }

    /// <summary>An AF_INET address block: source, destination, source port, destination port.</summary>
    public static byte[] Inet(byte[] source, byte[] destination, ushort sourcePort, ushort destinationPort)
    {
        var block = new byte[2 * source.Length + 4];
        source.CopyTo(block, 0);
        destination.CopyTo(block, source.Length);
        BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(2 * source.Length), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(block.AsSpan(2 * source.Length + 2), destinationPort);
        return block;
    }

    /// <summary>127.0.0.5:40000 to 127.0.0.1:12345.</summary>
    public static byte[] Loopback4 => Inet([127, 0, 0, 5], [127, 0, 0, 1], 40000, 12345);

    /// <summary>[2001:db8::5]:40000 to [::1]:12345.</summary>
    public static byte[] Loopback6 =>
        Inet(System.Net.IPAddress.Parse("2001:db8::5").GetAddressBytes(), System.Net.IPAddress.IPv6Loopback.GetAddressBytes(), 40000, 12345);

    public static byte[] Tlv(byte type, byte[] value)
    {
        var tlv = new byte[3 + value.Length];
        tlv[0] = type;
        BinaryPrimitives.WriteUInt16BigEndian(tlv.AsSpan(1), (ushort)value.Length);
        value.CopyTo(tlv, 3);
        return tlv;
    }

    public static byte[] Concat(params byte[][] parts) => [.. parts.SelectMany(p => p)];
}
