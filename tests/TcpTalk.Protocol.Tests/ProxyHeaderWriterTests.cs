using System.Net;
using static TcpTalk.Protocol.Tests.ProxyHeaderBuilder;

namespace TcpTalk.Protocol.Tests;

/// <summary><see cref="ProxyHeaderWriter"/> writes exactly the bytes doc/proxy-protocol.txt draws, and the parser reads them back.</summary>
public class ProxyHeaderWriterTests
{
    private static readonly IPEndPoint s_source = new(IPAddress.Parse("127.0.0.5"), 40000);
    private static readonly IPEndPoint s_destination = new(IPAddress.Parse("127.0.0.1"), 12345);

    private static byte[] Write(int version, IPEndPoint source, IPEndPoint destination, byte[]? uniqueId = null)
    {
        var buffer = new byte[ProxyHeaderWriter.MaxBytes];
        return buffer[..ProxyHeaderWriter.Write(version, source, destination, buffer, uniqueId)];
    }

    [Fact]
    public void V1IsTheTextLineWithCrlf() =>
        Assert.Equal(Ascii("PROXY TCP4 127.0.0.5 127.0.0.1 40000 12345\r\n"), Write(1, s_source, s_destination));

    [Fact]
    public void V2IsTheBinaryHeaderWithTheUniqueIdTlv() =>
        Assert.Equal(V2(0x21, 0x11, Loopback4, Tlv(0x05, Ascii("req-1"))), Write(2, s_source, s_destination, Ascii("req-1")));

    [Theory]
    [InlineData(1, "::1", "2001:db8::7")]
    [InlineData(2, "::1", "2001:db8::7")]
    [InlineData(1, "10.255.255.254", "192.0.2.1")]
    [InlineData(2, "10.0.0.1", "192.0.2.1")]
    public void EveryHeaderWrittenParsesBackToItsEndpoints(int version, string source, string destination)
    {
        var from = new IPEndPoint(IPAddress.Parse(source), 65535);
        var to = new IPEndPoint(IPAddress.Parse(destination), 1);
        byte[] header = Write(version, from, to, version == 2 ? new byte[128] : null);
        Assert.True(ProxyHeaderParser.Default.TryParse(header, out var parsed));
        Assert.Equal((version, from, to, header.Length), (parsed.Version, parsed.Source, parsed.Destination, parsed.Length));
        Assert.Equal(version == 2 ? new byte[128] : null, parsed.UniqueId);
    }

    [Fact]
    public void V2LocalNamesNoClient()
    {
        Assert.True(ProxyHeaderParser.Default.TryParse(ProxyHeaderWriter.V2Local(), out var parsed));
        Assert.Equal(ProxyCommand.Local, parsed.Command);
        Assert.True(parsed.UsesRealEndpoints);
    }

    [Fact]
    public void MixedFamiliesAUniqueIdInV1AndVersion3AreRefused()
    {
        var v6 = new IPEndPoint(IPAddress.IPv6Loopback, 1);
        var buffer = new byte[ProxyHeaderWriter.MaxBytes];
        Assert.Throws<ArgumentException>(() => ProxyHeaderWriter.Write(2, s_source, v6, buffer));
        Assert.Throws<ArgumentException>(() => ProxyHeaderWriter.Write(1, s_source, s_destination, buffer, [1]));
        Assert.Throws<ArgumentException>(() => ProxyHeaderWriter.Write(3, s_source, s_destination, buffer));
        Assert.Throws<ArgumentException>(() => ProxyHeaderWriter.Write(2, s_source, s_destination, buffer, new byte[129]));
    }
}
