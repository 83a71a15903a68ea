using System.Buffers;
using System.Net;
using TcpTalk.Fuzz;
using static TcpTalk.Protocol.Tests.ProxyHeaderBuilder;

namespace TcpTalk.Protocol.Tests;

/// <summary>
/// Valid PROXY headers, v1 and v2, from doc/proxy-protocol.txt's grammar. Every example goes through
/// <see cref="ProxyTarget.CheckEveryCut"/> (each prefix, two- and three-segment sequences) and through every way
/// of arriving in one, two or one-byte reads, and must give the same header each time.
/// </summary>
public class ProxyHeaderParserTests
{
    private static readonly byte[] s_payload = "hello\0PROXY \r\n\r\n\0"u8.ToArray();

    [Fact]
    public void V1Tcp4NamesTheClient()
    {
        var header = ParseEverywhere(Ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"));
        Assert.Equal(1, header.Version);
        Assert.Equal(ProxyCommand.Proxy, header.Command);
        Assert.Equal(ProxyAddressFamily.InterNetwork, header.Family);
        Assert.Equal(ProxyTransport.Stream, header.Transport);
        Assert.Equal(IPEndPoint.Parse("192.168.0.1:56324"), header.Source);
        Assert.Equal(IPEndPoint.Parse("192.168.0.11:443"), header.Destination);
        Assert.Equal(47, header.Length);
        Assert.False(header.UsesRealEndpoints);
        Assert.Null(header.UniqueId);
    }

    [Fact]
    public void V1Tcp4AtTheLongestIsAccepted()
    {
        var header = ParseEverywhere(Ascii("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"));
        Assert.Equal(IPEndPoint.Parse("255.255.255.255:65535"), header.Source);
        Assert.Equal(56, header.Length);
        Assert.Equal(IPEndPoint.Parse("0.0.0.0:0"), ParseEverywhere(Ascii("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n")).Source);
    }

    [Theory]
    [InlineData("PROXY TCP6 2001:db8::5 ::1 40000 12345\r\n", "[2001:db8::5]:40000", "[::1]:12345")]
    [InlineData("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF 65535 65535\r\n",
        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535")]
    [InlineData("PROXY TCP6 ::ffff:127.0.0.5 0000:0000:0000:0000:0000:0000:0000:0001 1 2\r\n", "[::ffff:127.0.0.5]:1", "[::1]:2")]
    public void V1Tcp6NamesTheClient(string line, string source, string destination)
    {
        var header = ParseEverywhere(Ascii(line));
        Assert.Equal(ProxyAddressFamily.InterNetworkV6, header.Family);
        Assert.Equal(IPEndPoint.Parse(source), header.Source);
        Assert.Equal(IPEndPoint.Parse(destination), header.Destination);
        Assert.Equal(line.Length, header.Length);
    }

    [Theory]
    [InlineData("PROXY UNKNOWN\r\n")]
    [InlineData("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n")]
    [InlineData("PROXY UNKNOWN whatever the sender put here, \x01 included\r\n")]
    public void V1UnknownUsesTheRealEndpoints(string line)
    {
        var header = ParseEverywhere(Ascii(line));
        Assert.True(header.UsesRealEndpoints);
        Assert.Null(header.Destination);
        Assert.Equal(ProxyAddressFamily.Unspecified, header.Family);
        Assert.Equal(line.Length, header.Length);
        Assert.True(line.Length <= ProxyHeaderParser.V1MaxLineBytes);
    }

    [Fact]
    public void V2ProxyOverIPv4NamesTheClient()
    {
        var header = ParseEverywhere(V2(0x21, 0x11, Loopback4));
        Assert.Equal(2, header.Version);
        Assert.Equal(ProxyCommand.Proxy, header.Command);
        Assert.Equal(ProxyAddressFamily.InterNetwork, header.Family);
        Assert.Equal(ProxyTransport.Stream, header.Transport);
        Assert.Equal(IPEndPoint.Parse("127.0.0.5:40000"), header.Source);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:12345"), header.Destination);
        Assert.Equal(28, header.Length);
        Assert.Equal("v2 PROXY tcp4 127.0.0.5:40000 -> 127.0.0.1:12345 (28 bytes)", header.ToString());
    }

    [Fact]
    public void V2ProxyOverIPv6NamesTheClient()
    {
        var header = ParseEverywhere(V2(0x21, 0x21, Loopback6));
        Assert.Equal(ProxyAddressFamily.InterNetworkV6, header.Family);
        Assert.Equal(IPEndPoint.Parse("[2001:db8::5]:40000"), header.Source);
        Assert.Equal(IPEndPoint.Parse("[::1]:12345"), header.Destination);
        Assert.Equal(52, header.Length);
    }

    [Fact]
    public void V2DatagramIsReportedWithItsAddresses()
    {
        var header = ParseEverywhere(V2(0x21, 0x12, Loopback4));
        Assert.Equal(ProxyTransport.Datagram, header.Transport);
        Assert.Equal(IPEndPoint.Parse("127.0.0.5:40000"), header.Source);
    }

    [Theory]
    [InlineData(0x00)] // what haproxy's health checks send
    [InlineData(0x11)] // the family byte of a LOCAL is ignored ...
    [InlineData(0xFF)] // ... even when it names no family at all
    public void V2LocalUsesTheRealEndpointsAndSkipsItsBlock(byte family)
    {
        var header = ParseEverywhere(V2(0x20, family, Loopback4, Tlv(0x05, Ascii("ignored"))));
        Assert.Equal(ProxyCommand.Local, header.Command);
        Assert.True(header.UsesRealEndpoints);
        Assert.Null(header.UniqueId);
        Assert.Equal(ProxyAddressFamily.Unspecified, header.Family);
        Assert.Equal(16 + 12 + 10, header.Length);
        Assert.Equal(16, ParseEverywhere(V2(0x20, 0x00)).Length);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x01)]
    [InlineData(0x10)] // AF_INET, UNSPEC transport: "the receiver should ignore address information"
    [InlineData(0x20)]
    public void V2ProxyWithUnspecifiedFamilyOrTransportUsesTheRealEndpoints(byte familyTransport)
    {
        byte[] addresses = (familyTransport >> 4) switch { 1 => Loopback4, 2 => Loopback6, _ => [] };
        var header = ParseEverywhere(V2(0x21, familyTransport, addresses, Tlv(0x05, Ascii("abc"))));
        Assert.True(header.UsesRealEndpoints);
        Assert.Equal(Ascii("abc"), header.UniqueId);
    }

    [Fact]
    public void V2UnixFallsBackToUnspecifiedAfterSkippingItsAddresses()
    {
        byte[] paths = new byte[216];
        Ascii("/tmp/client.sock").CopyTo(paths, 0);
        var header = ParseEverywhere(V2(0x21, 0x31, paths, Tlv(0x05, Ascii("unix-1"))));
        Assert.Equal(ProxyAddressFamily.Unix, header.Family);
        Assert.Equal(ProxyTransport.Stream, header.Transport);
        Assert.True(header.UsesRealEndpoints);
        Assert.Equal(Ascii("unix-1"), header.UniqueId);
        Assert.Equal(16 + 216 + 9, header.Length);
    }

    [Fact]
    public void V2TlvsAreSkippedByLengthAndTheUniqueIdIsKept()
    {
        byte[] uniqueId = [.. Enumerable.Range(0, 128).Select(i => (byte)i)];
        var header = ParseEverywhere(V2(0x21, 0x11, Loopback4,
            Tlv(0x04, []), Tlv(0x01, Ascii("h2")), Tlv(0x02, Ascii("example.com")), Tlv(0x20, new byte[300]),
            Tlv(0x05, uniqueId), Tlv(0x05, Ascii("second")), Tlv(0xE0, [1, 2, 3]), Tlv(0xFF, [])));
        Assert.Equal(uniqueId, header.UniqueId);
        Assert.Equal(IPEndPoint.Parse("127.0.0.5:40000"), header.Source);
    }

    [Fact]
    public void V2WithAValidCrc32CIsAccepted()
    {
        byte[] header = V2(0x21, 0x11, Loopback4, Tlv(0x03, new byte[4]), Tlv(0x05, Ascii("id")));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(16 + 12 + 3), ReferenceCrc32C(header));
        Assert.Equal(Ascii("id"), ParseEverywhere(header).UniqueId);
    }

    [Fact]
    public void ReferenceCrc32CMatchesTheStandardCheckValue() =>
        Assert.Equal(0xE3069283u, ReferenceCrc32C(Ascii("123456789"))); // CRC-32C of "123456789" (RFC 3720's polynomial)

    [Fact]
    public void V2AtTheLimitIsAccepted()
    {
        // Each prefix and the two- and three-segment cuts only: every way of cutting 4 KiB in two or into bytes is slow.
        int padding = ProxyHeaderParser.DefaultMaxHeaderBytes - 16 - 12 - 3;
        var outcome = ProxyTarget.CheckEveryCut(Concat(V2(0x21, 0x11, Loopback4, Tlv(0x04, new byte[padding])), s_payload));
        Assert.Equal(ProxyHeaderParser.DefaultMaxHeaderBytes, outcome.Consumed);
    }

    [Theory]
    [InlineData("PROXY TCP4 127.0.0.5 127.0.0.1 40000 12345\r\n")]
    [InlineData("PROXY UNKNOWN\r\n")]
    public void BytesAfterAV1HeaderStayInTheBuffer(string line) => AssertPayloadLeftAlone(Ascii(line));

    [Fact]
    public void BytesAfterAV2HeaderStayInTheBuffer()
    {
        AssertPayloadLeftAlone(V2(0x21, 0x11, Loopback4, Tlv(0x05, Ascii("x"))));
        AssertPayloadLeftAlone(V2(0x20, 0x00));
    }

    [Fact]
    public void EveryStrictPrefixOfAHeaderNeedsMoreBytesWithoutThrowing()
    {
        foreach (byte[] header in new[] { Ascii("PROXY TCP6 2001:db8::5 ::1 40000 12345\r\n"), V2(0x21, 0x21, Loopback6, Tlv(0x05, Ascii("id"))) })
        {
            for (int length = 0; length < header.Length; length++)
            {
                Assert.False(ProxyHeaderParser.Default.TryParse(header.AsSpan(0, length), out var none), $"prefix {length}");
                Assert.Null(none);
                var sequence = new ReadOnlySequence<byte>(header, 0, length);
                Assert.False(ProxyHeaderParser.Default.TryParse(ref sequence, out _));
                Assert.Equal(length, sequence.Length);
            }
        }
    }

    [Fact]
    public void MaxHeaderBytesDefaultIs4096()
    {
        Assert.Equal(4096, ProxyHeaderParser.Default.MaxHeaderBytes);
        Assert.Equal(4096, new ProxyHeaderParser().MaxHeaderBytes);
    }

    [Theory]
    [InlineData(232)]
    [InlineData(65551)]
    public void MaxHeaderBytesValid(int limit) => Assert.Equal(limit, new ProxyHeaderParser(limit).MaxHeaderBytes);

    [Theory]
    [InlineData(231)]
    [InlineData(65552)]
    [InlineData(0)]
    public void MaxHeaderBytesInvalid(int limit) => Assert.Throws<ArgumentOutOfRangeException>(() => new ProxyHeaderParser(limit));

    [Fact]
    public void AHigherLimitAcceptsWhatTheDefaultRefuses()
    {
        byte[] header = V2(0x21, 0x11, Loopback4, Tlv(0x04, new byte[ushort.MaxValue - 12 - 3]));
        Assert.Equal(ProxyHeaderError.V2TooLong, Assert.Throws<ProxyHeaderException>(() => ProxyHeaderParser.Default.TryParse(header, out _)).Reason);
        Assert.True(new ProxyHeaderParser(ProxyHeaderParser.MaxAllowedHeaderBytes).TryParse(header, out var parsed));
        Assert.Equal(ProxyHeaderParser.MaxAllowedHeaderBytes, parsed.Length);
    }

    /// <summary>
    /// Parses <paramref name="header"/> with a payload behind it every way it can arrive and returns the header;
    /// fails unless every way gives the same one.
    /// </summary>
    internal static ProxyHeader ParseEverywhere(byte[] header)
    {
        byte[] input = Concat(header, s_payload);
        var outcome = ProxyTarget.CheckEveryCut(input);
        Assert.True(outcome.Header is not null, $"no header: {outcome}");
        Assert.Equal(header.Length, outcome.Consumed);
        foreach (var chunks in FramerHarness.AllCuts(input, pairsUpTo: 64))
        {
            Assert.Equal(outcome, FeedReads(chunks));
        }

        Assert.True(ProxyHeaderParser.Default.TryParse(input, out var parsed));
        Assert.Equal(outcome.Header, ProxyOutcome.Describe(parsed));
        return parsed;
    }

    /// <summary>As a connection drives the parser: each read adds a segment, and the parser runs until it decides.</summary>
    internal static ProxyOutcome FeedReads(IEnumerable<byte[]> chunks)
    {
        var received = new List<byte[]>();
        var outcome = default(ProxyOutcome);
        foreach (var chunk in chunks)
        {
            received.Add(chunk);
            outcome = ProxyTarget.ParseSequence(ProxyHeaderParser.Default, [.. received], []);
            if (!outcome.NeedsMore)
            {
                return outcome;
            }
        }

        return outcome;
    }

    private static void AssertPayloadLeftAlone(byte[] header)
    {
        byte[] input = Concat(header, s_payload);
        for (int cut = 1; cut < input.Length; cut++)
        {
            var buffer = Segments.Chain(input, cut);
            Assert.True(ProxyHeaderParser.Default.TryParse(ref buffer, out var parsed));
            Assert.Equal(header.Length, parsed.Length);
            Assert.Equal(s_payload, buffer.ToArray());
        }
    }

    /// <summary>CRC-32C bit by bit (reflected polynomial 0x82F63B78), independent of the parser's BitOperations.</summary>
    internal static uint ReferenceCrc32C(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int bit = 0; bit < 8; bit++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
            }
        }

        return ~crc;
    }
}
