using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Numerics;

namespace TcpTalk.Protocol;

/// <summary>
/// Reads the PROXY protocol header (v1 text or v2 binary, haproxy's doc/proxy-protocol.txt) at the start of a
/// connection from a trusted balancer. A pure function over bytes like <see cref="MessageFramer"/>: "need more bytes"
/// returns false and never throws; a header that cannot become valid throws <see cref="ProxyHeaderException"/> with
/// a <see cref="ProxyHeaderError"/> as soon as the bytes that break it have arrived.
/// </summary>
/// <remarks>
/// <para>
/// The version is detected by signature, never guessed: a stream starting <c>PROXY</c> is v1, one starting
/// <c>\r\n\r\n\0\r\nQUIT\n</c> is v2, anything else is <see cref="ProxyHeaderError.NotProxyHeader"/> from its first
/// differing byte. Every check depends only on bytes at fixed positions before it, and checks run in position order,
/// so the outcome is the same however the stream was cut into reads (the tests and the fuzz target check this).
/// </para>
/// <para>
/// v2 decisions: <c>LOCAL</c> skips the whole address block by its length, family byte and TLVs included ("discard
/// the protocol block including the family which is ignored"), and names no client. <c>PROXY</c> over AF_INET or
/// AF_INET6 with STREAM or DGRAM yields the addresses; AF_UNSPEC, UNSPEC transport and AF_UNIX name no client
/// (AF_UNIX is not decoded: the specification lets a receiver fall back to UNSPEC for a valid combination it does not
/// implement; <see cref="ProxyHeader.Family"/> still says Unix, so a server may refuse it). After the family's address
/// block (0, 12, 36 or 216 bytes) the rest is TLVs, each skipped by its length; PP2_TYPE_UNIQUE_ID (0x05, at most
/// 128 bytes) is kept, PP2_TYPE_CRC32C (0x03) is verified.
/// </para>
/// </remarks>
public sealed class ProxyHeaderParser
{
    /// <summary>The longest v1 line, CRLF included: <c>PROXY UNKNOWN</c> with two full IPv6 addresses and ports.</summary>
    public const int V1MaxLineBytes = 107;

    /// <summary>The fixed part of a v2 header: signature (12), version/command, family/transport, length (2).</summary>
    public const int V2FixedBytes = 16;

    /// <summary>
    /// The default for <see cref="MaxHeaderBytes"/>: 4096 bytes, signature included. A balancer's header is addresses
    /// (at most 216 bytes) plus a few TLVs: unique id (128), authority/SNI (255), SSL strings; the specification sizes
    /// headers to fit 536 bytes. 4 KiB leaves room for a client-certificate TLV and still bounds what one connection
    /// can make the server hold before it is identified, instead of the 64 KiB the length field allows.
    /// </summary>
    public const int DefaultMaxHeaderBytes = 4096;

    /// <summary>The smallest accepted <see cref="MaxHeaderBytes"/>: room for the fixed part and an AF_UNIX address block.</summary>
    public const int MinMaxHeaderBytes = V2FixedBytes + UnixAddressBytes;

    /// <summary>The largest accepted <see cref="MaxHeaderBytes"/>: the most the 16-bit v2 length field can describe.</summary>
    public const int MaxAllowedHeaderBytes = V2FixedBytes + ushort.MaxValue;

    /// <summary>The longest PP2_TYPE_UNIQUE_ID value the specification allows.</summary>
    public const int MaxUniqueIdBytes = 128;

    private const int UnixAddressBytes = 216;
    private const byte TlvCrc32C = 0x03;
    private const byte TlvUniqueId = 0x05;

    /// <summary>Creates a parser that refuses v2 headers longer than <paramref name="maxHeaderBytes"/> bytes in all.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxHeaderBytes"/> is below 232 or above 65551.</exception>
    public ProxyHeaderParser(int maxHeaderBytes = DefaultMaxHeaderBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHeaderBytes, MinMaxHeaderBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxHeaderBytes, MaxAllowedHeaderBytes);
        MaxHeaderBytes = maxHeaderBytes;
    }

    /// <summary>A parser with <see cref="DefaultMaxHeaderBytes"/>; it holds no state, so it can be shared.</summary>
    public static ProxyHeaderParser Default { get; } = new();

    /// <summary>The longest v2 header accepted, in bytes, the 16 fixed ones included. v1 lines are bounded by <see cref="V1MaxLineBytes"/>.</summary>
    public int MaxHeaderBytes { get; }

    /// <summary>The v2 signature: <c>\r\n\r\n\0\r\nQUIT\n</c>.</summary>
    public static ReadOnlySpan<byte> V2Signature => "\r\n\r\n\0\r\nQUIT\n"u8;

    /// <summary>
    /// Looks for one complete PROXY header at the start of <paramref name="buffer"/>. Returns false, without throwing,
    /// when more bytes are needed; on true, <see cref="ProxyHeader.Length"/> says how many bytes to consume.
    /// </summary>
    /// <exception cref="ProxyHeaderException">The bytes so far cannot start a valid header: close the connection.</exception>
    public bool TryParse(ReadOnlySpan<byte> buffer, [NotNullWhen(true)] out ProxyHeader? header)
    {
        header = buffer.IsEmpty ? null : buffer[0] switch
        {
            (byte)'P' => ProxyV1Line.TryParse(buffer),
            (byte)'\r' => TryParseV2(buffer),
            _ => throw NotAHeader(buffer),
        };
        return header is not null;
    }

    /// <summary>
    /// Sequence form of <see cref="TryParse(ReadOnlySpan{byte}, out ProxyHeader?)"/>: on true advances
    /// <paramref name="buffer"/> past the header and leaves every byte after it where it was; on false or on an
    /// exception leaves <paramref name="buffer"/> as it was.
    /// </summary>
    /// <exception cref="ProxyHeaderException">The bytes so far cannot start a valid header.</exception>
    public bool TryParse(ref ReadOnlySequence<byte> buffer, [NotNullWhen(true)] out ProxyHeader? header)
    {
        bool found;
        if (buffer.IsSingleSegment)
        {
            found = TryParse(buffer.FirstSpan, out header);
        }
        else
        {
            // A header never spans more than MaxHeaderBytes (v1: 107), so that much, copied once, decides.
            int take = (int)Math.Min(buffer.Length, MaxHeaderBytes);
            byte[] rented = ArrayPool<byte>.Shared.Rent(take);
            try
            {
                buffer.Slice(0, take).CopyTo(rented);
                found = TryParse(rented.AsSpan(0, take), out header);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        if (found)
        {
            buffer = buffer.Slice(header!.Length);
        }

        return found;
    }

    internal static ProxyHeaderException NotAHeader(ReadOnlySpan<byte> buffer) =>
        new(ProxyHeaderError.NotProxyHeader, "the connection starts with neither 'PROXY' nor the v2 signature", buffer);

    private ProxyHeader? TryParseV2(ReadOnlySpan<byte> buffer)
    {
        int signature = Math.Min(buffer.Length, V2Signature.Length);
        if (!buffer[..signature].SequenceEqual(V2Signature[..signature]))
        {
            throw NotAHeader(buffer);
        }

        if (buffer.Length <= 12)
        {
            return null;
        }

        int version = buffer[12] >> 4;
        int command = buffer[12] & 0x0F;
        if (version != 2)
        {
            throw new ProxyHeaderException(ProxyHeaderError.V2BadVersion, $"v2 signature with version {version}, not 2", buffer);
        }

        if (command > (int)ProxyCommand.Proxy)
        {
            throw new ProxyHeaderException(ProxyHeaderError.V2BadCommand, $"v2 command 0x{command:X}, neither LOCAL (0) nor PROXY (1)", buffer);
        }

        if (buffer.Length <= 13)
        {
            return null;
        }

        int family = buffer[13] >> 4;
        int transport = buffer[13] & 0x0F;
        bool proxy = command == (int)ProxyCommand.Proxy;
        if (proxy && (family > (int)ProxyAddressFamily.Unix || transport > (int)ProxyTransport.Datagram))
        {
            throw new ProxyHeaderException(ProxyHeaderError.V2UnsupportedFamily,
                $"v2 family/transport byte 0x{buffer[13]:X2} names no family (0-3) and transport (0-2) of the specification", buffer);
        }

        if (buffer.Length < V2FixedBytes)
        {
            return null;
        }

        int total = V2FixedBytes + BinaryPrimitives.ReadUInt16BigEndian(buffer[14..]);
        if (total > MaxHeaderBytes)
        {
            throw new ProxyHeaderException(ProxyHeaderError.V2TooLong, $"v2 header of {total} bytes, longer than the limit of {MaxHeaderBytes}", buffer);
        }

        int addressBytes = !proxy ? 0 : (ProxyAddressFamily)family switch
        {
            ProxyAddressFamily.InterNetwork => 12,
            ProxyAddressFamily.InterNetworkV6 => 36,
            ProxyAddressFamily.Unix => UnixAddressBytes,
            _ => 0,
        };
        if (total - V2FixedBytes < addressBytes)
        {
            throw new ProxyHeaderException(ProxyHeaderError.V2Truncated,
                $"v2 length {total - V2FixedBytes} is shorter than the {addressBytes}-byte address block of family {family}", buffer);
        }

        if (buffer.Length < total)
        {
            return null;
        }

        var header = buffer[..total];
        if (!proxy)
        {
            return new ProxyHeader(2, ProxyCommand.Local, ProxyAddressFamily.Unspecified, ProxyTransport.Unspecified, null, null, null, total);
        }

        byte[]? uniqueId = ReadTlvs(header, V2FixedBytes + addressBytes);
        IPEndPoint? source = null, destination = null;
        if (family is (int)ProxyAddressFamily.InterNetwork or (int)ProxyAddressFamily.InterNetworkV6 && transport != (int)ProxyTransport.Unspecified)
        {
            int size = family == (int)ProxyAddressFamily.InterNetwork ? 4 : 16;
            var addresses = header[V2FixedBytes..];
            source = new IPEndPoint(new IPAddress(addresses[..size]), BinaryPrimitives.ReadUInt16BigEndian(addresses[(2 * size)..]));
            destination = new IPEndPoint(new IPAddress(addresses.Slice(size, size)), BinaryPrimitives.ReadUInt16BigEndian(addresses[(2 * size + 2)..]));
        }

        return new ProxyHeader(2, ProxyCommand.Proxy, (ProxyAddressFamily)family, (ProxyTransport)transport, source, destination, uniqueId, total);
    }

    /// <summary>Walks the TLVs from <paramref name="offset"/> to the header's end; returns the first UNIQUE_ID value.</summary>
    private static byte[]? ReadTlvs(ReadOnlySpan<byte> header, int offset)
    {
        byte[]? uniqueId = null;
        while (offset < header.Length)
        {
            if (header.Length - offset < 3)
            {
                throw new ProxyHeaderException(ProxyHeaderError.V2BadTlv,
                    $"v2 header ends {header.Length - offset} bytes into a TLV's 3-byte type and length", header);
            }

            byte type = header[offset];
            int length = BinaryPrimitives.ReadUInt16BigEndian(header[(offset + 1)..]);
            int value = offset + 3;
            if (length > header.Length - value)
            {
                throw new ProxyHeaderException(ProxyHeaderError.V2BadTlv,
                    $"v2 TLV 0x{type:X2} of {length} bytes runs past the header's end ({header.Length - value} left)", header);
            }

            if (type == TlvUniqueId)
            {
                if (length > MaxUniqueIdBytes)
                {
                    throw new ProxyHeaderException(ProxyHeaderError.V2BadTlv,
                        $"v2 UNIQUE_ID TLV of {length} bytes, longer than the limit of {MaxUniqueIdBytes}", header);
                }

                uniqueId ??= header.Slice(value, length).ToArray();
            }
            else if (type == TlvCrc32C)
            {
                CheckCrc32C(header, value, length);
            }

            offset = value + length;
        }

        return uniqueId;
    }

    /// <summary>PP2_TYPE_CRC32C: the CRC32c (RFC 4960 appendix B) of the whole header with the 4-byte field taken as zero.</summary>
    private static void CheckCrc32C(ReadOnlySpan<byte> header, int value, int length)
    {
        if (length != 4)
        {
            throw new ProxyHeaderException(ProxyHeaderError.V2BadTlv, $"v2 CRC32C TLV of {length} bytes, not 4", header);
        }

        uint crc = uint.MaxValue;
        for (int i = 0; i < header.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, i >= value && i < value + 4 ? (byte)0 : header[i]);
        }

        uint expected = BinaryPrimitives.ReadUInt32BigEndian(header[value..]);
        if (~crc != expected)
        {
            throw new ProxyHeaderException(ProxyHeaderError.V2ChecksumMismatch,
                $"v2 CRC32C is 0x{expected:X8} but the header's checksum is 0x{~crc:X8}", header);
        }
    }
}
