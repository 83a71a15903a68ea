using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TcpTalk.Protocol;

/// <summary>
/// Writes PROXY protocol headers as a balancer sends them (haproxy's doc/proxy-protocol.txt): what
/// <c>tcptalk bench --proxy-protocol</c> and the tests send to stand in for HAProxy or nginx. The inverse of
/// <see cref="ProxyHeaderParser"/>, which reads back every header written here.
/// </summary>
public static class ProxyHeaderWriter
{
    /// <summary>The most bytes <see cref="Write"/> needs: a v1 line with two IPv6 addresses (107), or a v2 IPv6 header (52) with a 128-byte unique id TLV.</summary>
    public const int MaxBytes = 16 + 36 + 3 + ProxyHeaderParser.MaxUniqueIdBytes;

    /// <summary>
    /// Writes a header saying the connection relays <paramref name="source"/>, which reached
    /// <paramref name="destination"/>: v1 <c>PROXY TCP4|TCP6 src dst sport dport\r\n</c>, or v2 PROXY over STREAM
    /// (with a UNIQUE_ID TLV when <paramref name="uniqueId"/> is not empty; v2 only). Returns the bytes written.
    /// </summary>
    /// <exception cref="ArgumentException">The two endpoints are of different families, the version is not 1 or 2,
    /// the unique id is longer than 128 bytes or given for v1, or <paramref name="destinationBuffer"/> is too small.</exception>
    public static int Write(int version, IPEndPoint source, IPEndPoint destination, Span<byte> destinationBuffer, ReadOnlySpan<byte> uniqueId = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source.AddressFamily != destination.AddressFamily || source.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentException("source and destination must both be IPv4 or both IPv6", nameof(destination));
        }

        if (uniqueId.Length > ProxyHeaderParser.MaxUniqueIdBytes || (version == 1 && !uniqueId.IsEmpty))
        {
            throw new ArgumentException("a unique id is at most 128 bytes, and v2 only", nameof(uniqueId));
        }

        return version switch
        {
            1 => WriteV1(source, destination, destinationBuffer),
            2 => WriteV2(source, destination, destinationBuffer, uniqueId),
            _ => throw new ArgumentException($"PROXY protocol version {version} is neither 1 nor 2", nameof(version)),
        };
    }

    /// <summary>A v2 LOCAL header (a balancer's health check): no addresses; the receiver uses the connection's own.</summary>
    public static byte[] V2Local() => [.. ProxyHeaderParser.V2Signature, 0x20, 0x00, 0x00, 0x00];

    private static int WriteV1(IPEndPoint source, IPEndPoint destination, Span<byte> buffer)
    {
        string line = string.Create(CultureInfo.InvariantCulture,
            $"PROXY {(source.AddressFamily == AddressFamily.InterNetwork ? "TCP4" : "TCP6")} {source.Address} {destination.Address} {source.Port} {destination.Port}\r\n");
        if (!Encoding.ASCII.TryGetBytes(line, buffer, out int written))
        {
            throw new ArgumentException("the buffer is too small for the header", nameof(buffer));
        }

        return written;
    }

    private static int WriteV2(IPEndPoint source, IPEndPoint destination, Span<byte> buffer, ReadOnlySpan<byte> uniqueId)
    {
        bool v4 = source.AddressFamily == AddressFamily.InterNetwork;
        int addressBytes = v4 ? 4 : 16;
        int block = (2 * addressBytes) + 4;
        int tlv = uniqueId.IsEmpty ? 0 : 3 + uniqueId.Length;
        int total = ProxyHeaderParser.V2FixedBytes + block + tlv;
        if (buffer.Length < total)
        {
            throw new ArgumentException("the buffer is too small for the header", nameof(buffer));
        }

        ProxyHeaderParser.V2Signature.CopyTo(buffer);
        buffer[12] = 0x21; // version 2, PROXY
        buffer[13] = v4 ? (byte)0x11 : (byte)0x21; // AF_INET or AF_INET6, STREAM
        BinaryPrimitives.WriteUInt16BigEndian(buffer[14..], (ushort)(block + tlv));
        var at = buffer[16..];
        source.Address.TryWriteBytes(at, out _);
        destination.Address.TryWriteBytes(at[addressBytes..], out _);
        BinaryPrimitives.WriteUInt16BigEndian(at[(2 * addressBytes)..], (ushort)source.Port);
        BinaryPrimitives.WriteUInt16BigEndian(at[((2 * addressBytes) + 2)..], (ushort)destination.Port);
        if (tlv > 0)
        {
            var t = at[block..];
            t[0] = 0x05; // PP2_TYPE_UNIQUE_ID
            BinaryPrimitives.WriteUInt16BigEndian(t[1..], (ushort)uniqueId.Length);
            uniqueId.CopyTo(t[3..]);
        }

        return total;
    }
}
