using TcpTalk.Fuzz;
using static TcpTalk.Protocol.Tests.ProxyHeaderBuilder;

namespace TcpTalk.Protocol.Tests;

/// <summary>
/// Every way a PROXY header can be refused, each with its own <see cref="ProxyHeaderError"/>: the same reason however
/// the bytes arrive, decided as soon as the bytes that break the rule are in, and a one-line message that says what
/// was wrong and quotes the input.
/// </summary>
public class ProxyHeaderMalformedTests
{
    public static TheoryData<string, string> V1Lines => new()
    {
        { "GET / HTTP/1.1\r\n", "NotProxyHeader" },
        { "PROXX TCP4\r\n", "NotProxyHeader" },
        { "proxy TCP4 127.0.0.5 127.0.0.1 40000 12345\r\n", "NotProxyHeader" },
        { "PROXYTCP4 127.0.0.5 127.0.0.1 40000 12345\r\n", "V1Malformed" },
        { "PROXY TCP5 127.0.0.5 127.0.0.1 40000 12345\r\n", "V1Malformed" },
        { "PROXY UNKNOWNX\r\n", "V1Malformed" },
        { "PROXY \r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0.5 127.0.0.1 40000 12345\n", "V1Malformed" }, // a bare LF does not end the line
        { "PROXY TCP4 127.0.0.5 127.0.0.1 40000 12345\r\r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0.5  127.0.0.1 40000 12345\r\n", "V1Malformed" }, // two spaces
        { "PROXY TCP4 127.0.0.5 127.0.0.1 40000 12345 \r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0.5 127.0.0.1 40000\r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0.5 127.0.0.1 40000 12345 80\r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0.05 127.0.0.1 40000 12345\r\n", "V1Malformed" }, // leading zero: octal?
        { "PROXY TCP4 127.0.0.256 127.0.0.1 40000 12345\r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0 127.0.0.1 40000 12345\r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0.5.1 127.0.0.1 40000 12345\r\n", "V1Malformed" },
        { "PROXY TCP4 ::1 127.0.0.1 40000 12345\r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0.5 127.0.0.1 040000 12345\r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0.5 127.0.0.1 65536 12345\r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0.5 127.0.0.1 -1 12345\r\n", "V1Malformed" },
        { "PROXY TCP4 127.0.0.5 127.0.0.1 40000 0x10\r\n", "V1Malformed" },
        { "PROXY TCP6 127.0.0.5 ::1 40000 12345\r\n", "V1Malformed" },
        { "PROXY TCP6 [::1] ::1 40000 12345\r\n", "V1Malformed" },
        { "PROXY TCP6 fe80::1%eth0 ::1 40000 12345\r\n", "V1Malformed" },
        { "PROXY TCP6 1::2::3 ::1 40000 12345\r\n", "V1Malformed" },
        { "PROXY TCP6 12345::1 ::1 40000 12345\r\n", "V1Malformed" },
    };

    [Theory]
    [MemberData(nameof(V1Lines))]
    public void MalformedV1IsRefusedWithItsReason(string line, string reason) =>
        AssertRefusedEverywhere(Ascii(line), Enum.Parse<ProxyHeaderError>(reason));

    [Fact]
    public void V1WithoutCrlfIn107BytesIsTooLong()
    {
        // 108 bytes: one more than "PROXY UNKNOWN" with two full IPv6 addresses and ports, the longest legal line.
        string line = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655355\r\n";
        Assert.Equal(108, line.Length);
        var error = AssertRefusedEverywhere(Ascii(line), ProxyHeaderError.V1TooLong);
        Assert.Contains("107 bytes", error.Message, StringComparison.Ordinal);

        // Decided at byte 107, not later: the parser never waits past the limit.
        byte[] endless = Ascii("PROXY TCP4 " + new string('1', 96));
        Assert.Equal(107, endless.Length);
        Assert.False(ProxyHeaderParser.Default.TryParse(endless.AsSpan(0, 106), out _));
        AssertRefused(endless, ProxyHeaderError.V1TooLong);
    }

    [Fact]
    public void NotAHeaderIsRefusedAtTheFirstByteThatDiffers()
    {
        AssertRefused("G"u8.ToArray(), ProxyHeaderError.NotProxyHeader);
        AssertRefused("PRX"u8.ToArray(), ProxyHeaderError.NotProxyHeader);
        AssertRefused("\r\n\r\n\0\r\nQUIT\r"u8.ToArray(), ProxyHeaderError.NotProxyHeader);
        AssertRefused([0x16, 0x03, 0x01], ProxyHeaderError.NotProxyHeader); // a TLS ClientHello
        AssertRefused([0], ProxyHeaderError.NotProxyHeader);
    }

    public static TheoryData<byte[], string> V2Headers => new()
    {
        { V2(0x11, 0x11, Loopback4), "V2BadVersion" },
        { V2(0x31, 0x11, Loopback4), "V2BadVersion" },
        { V2(0x01, 0x11, Loopback4), "V2BadVersion" },
        { V2(0x22, 0x11, Loopback4), "V2BadCommand" },
        { V2(0x2F, 0x11, Loopback4), "V2BadCommand" },
        { V2(0x21, 0x41, Loopback4), "V2UnsupportedFamily" },
        { V2(0x21, 0xF1, Loopback4), "V2UnsupportedFamily" },
        { V2(0x21, 0x13, Loopback4), "V2UnsupportedFamily" },
        { V2(0x21, 0x11, Loopback4[..11]), "V2Truncated" },
        { V2(0x21, 0x21, Loopback4), "V2Truncated" },
        { V2(0x21, 0x31, new byte[215]), "V2Truncated" },
        { V2(0x21, 0x11, Loopback4, [0x05]), "V2BadTlv" },
        { V2(0x21, 0x11, Loopback4, [0x05, 0x00]), "V2BadTlv" },
        { V2(0x21, 0x11, Loopback4, [0x05, 0x00, 0x04, 0x61, 0x62, 0x63]), "V2BadTlv" },
        { V2(0x21, 0x11, Loopback4, Tlv(0x05, new byte[129])), "V2BadTlv" },
        { V2(0x21, 0x11, Loopback4, Tlv(0x03, new byte[3])), "V2BadTlv" },
        { V2(0x21, 0x11, Loopback4, Tlv(0x03, [0xDE, 0xAD, 0xBE, 0xEF])), "V2ChecksumMismatch" },
    };

    [Theory]
    [MemberData(nameof(V2Headers))]
    public void MalformedV2IsRefusedWithItsReason(byte[] header, string reason) =>
        AssertRefusedEverywhere(header, Enum.Parse<ProxyHeaderError>(reason));

    [Fact]
    public void V2LongerThanTheLimitIsRefusedFromItsLengthField()
    {
        byte[] fixedPart = V2(0x21, 0x11)[..14];
        byte[] header = Concat(fixedPart, [0x0F, 0xF1]); // 16 + 4081 = 4097 bytes announced, none of them sent
        var error = AssertRefusedEverywhere(header, ProxyHeaderError.V2TooLong);
        Assert.Contains("4097 bytes, longer than the limit of 4096", error.Message, StringComparison.Ordinal);
        AssertRefused(Concat(fixedPart, [0xFF, 0xFF]), ProxyHeaderError.V2TooLong);
        Assert.False(ProxyHeaderParser.Default.TryParse(Concat(fixedPart, [0x0F, 0xF0]), out _)); // exactly 4096: waits
    }

    [Fact]
    public void AChangedByteUnderACrc32CIsCaught()
    {
        byte[] header = V2(0x21, 0x11, Loopback4, Tlv(0x03, new byte[4]));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(16 + 12 + 3), ProxyHeaderParserTests.ReferenceCrc32C(header));
        Assert.True(ProxyHeaderParser.Default.TryParse(header, out _));
        header[19] = 6; // the client claims 127.0.0.6
        AssertRefusedEverywhere(header, ProxyHeaderError.V2ChecksumMismatch);
    }

    [Fact]
    public void ReasonsHaveStableDistinctNames()
    {
        var names = Enum.GetValues<ProxyHeaderError>().Select(ProxyHeaderErrors.Name).ToList();
        Assert.DoesNotContain("unknown", names);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal("v1_too_long", ProxyHeaderErrors.Name(ProxyHeaderError.V1TooLong));
    }

    [Fact]
    public void RefusalMessageSaysWhatAndQuotesTheInput()
    {
        var error = AssertRefused(Ascii("PROXY TCP4 127.0.0.256 127.0.0.1 40000 12345\r\n"), ProxyHeaderError.V1Malformed);
        Assert.Equal("PROXY header: v1 address is not a dotted IPv4 address; it starts \"PROXY TCP4 127.0.0.256 127.0.0.1 40000 12345\\r\\n\"", error.Message);
        Assert.IsAssignableFrom<ProtocolException>(error);
    }

    /// <summary>Refused with <paramref name="reason"/> whole, at every cut, and however the reads come.</summary>
    private static ProxyHeaderException AssertRefusedEverywhere(byte[] input, ProxyHeaderError reason)
    {
        var outcome = ProxyTarget.CheckEveryCut(input);
        Assert.Equal(reason, outcome.Error);
        foreach (var chunks in FramerHarness.AllCuts(input, pairsUpTo: 48))
        {
            Assert.Equal(outcome, ProxyHeaderParserTests.FeedReads(chunks));
        }

        return AssertRefused(input, reason);
    }

    private static ProxyHeaderException AssertRefused(byte[] input, ProxyHeaderError reason)
    {
        var error = Assert.Throws<ProxyHeaderException>(() => ProxyHeaderParser.Default.TryParse(input, out _));
        Assert.Equal(reason, error.Reason);
        Assert.StartsWith("PROXY header: ", error.Message, StringComparison.Ordinal);
        return error;
    }
}
