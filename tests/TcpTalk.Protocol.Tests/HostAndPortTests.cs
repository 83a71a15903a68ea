using System.Net;

namespace TcpTalk.Protocol.Tests;

public class HostAndPortTests
{
    [Theory]
    [InlineData("example.test", "example.test", 12345, "example.test:12345")]
    [InlineData("  example.test  ", "example.test", 12345, "example.test:12345")]
    [InlineData("example.test:9000", "example.test", 9000, "example.test:9000")]
    [InlineData("localhost:0", "localhost", 0, "localhost:0")]
    [InlineData("localhost:65535", "localhost", 65535, "localhost:65535")]
    [InlineData("127.0.0.1", "127.0.0.1", 12345, "127.0.0.1:12345")]
    [InlineData("127.0.0.1:9000", "127.0.0.1", 9000, "127.0.0.1:9000")]
    [InlineData("[::1]:9000", "::1", 9000, "[::1]:9000")]
    [InlineData("[::1]", "::1", 12345, "[::1]:12345")]
    [InlineData("::1", "::1", 12345, "[::1]:12345")]
    [InlineData("fe80::1:2", "fe80::1:2", 12345, "[fe80::1:2]:12345")]
    [InlineData("[::ffff:10.0.0.1]:80", "::ffff:10.0.0.1", 80, "[::ffff:10.0.0.1]:80")]
    public void UserFormsAreParsed(string text, string host, int port, string shown)
    {
        Assert.True(HostAndPort.TryParse(text, HostAndPort.DefaultPort, out var parsed, out string? error), error);
        Assert.Null(error);
        Assert.Equal(new HostAndPort(host, port), parsed);
        Assert.Equal(shown, parsed.ToString());

        // What ToString shows parses back to the same value.
        Assert.True(HostAndPort.TryParse(shown, 1, out var again, out _));
        Assert.Equal(parsed, again);
    }

    [Fact]
    public void DefaultPortIsTheClassicProgramsPort()
    {
        Assert.Equal(12345, HostAndPort.DefaultPort);
        Assert.True(HostAndPort.TryParse("host", 7, out var parsed, out _));
        Assert.Equal(7, parsed.Port);
    }

    [Theory]
    [InlineData("[::1", "'[::1' has a '[' without a matching ']'")]
    [InlineData("[::1]x", "'[::1]x' has text after ']' that is not ':PORT'")]
    [InlineData("[::1]:", "'' is not a port number (0-65535)")]
    [InlineData("host:99999", "'99999' is not a port number (0-65535)")]
    [InlineData("host:65536", "'65536' is not a port number (0-65535)")]
    [InlineData("host:-1", "'-1' is not a port number (0-65535)")]
    [InlineData("host:+80", "'+80' is not a port number (0-65535)")]
    [InlineData("host:http", "'http' is not a port number (0-65535)")]
    [InlineData("host:", "'' is not a port number (0-65535)")]
    [InlineData(":80", "':80' has no host before the port")]
    [InlineData("[example]:80", "'example' in brackets is not an IPv6 address")]
    [InlineData("[127.0.0.1]:80", "'127.0.0.1' in brackets is not an IPv6 address")]
    [InlineData("[]:80", "'' in brackets is not an IPv6 address")]
    [InlineData("::1:80:", "'::1:80:' has several ':' but is not an IPv6 address (write an IPv6 address with a port as [ADDRESS]:PORT)")]
    [InlineData("a:b:c", "'a:b:c' has several ':' but is not an IPv6 address (write an IPv6 address with a port as [ADDRESS]:PORT)")]
    [InlineData("x]:1:2", "'x]:1:2' has several ':' but is not an IPv6 address (write an IPv6 address with a port as [ADDRESS]:PORT)")]
    [InlineData("", "no host given")]
    [InlineData("   ", "no host given")]
    [InlineData(null, "no host given")]
    public void MalformedFormsAreRefusedWithTheReason(string? text, string expected)
    {
        Assert.False(HostAndPort.TryParse(text, HostAndPort.DefaultPort, out var parsed, out string? error));
        Assert.Equal(expected, error);
        Assert.Equal(default, parsed);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::1", "::1")]
    [InlineData("example.test", null)]
    public void AddressIsSetOnlyForLiterals(string host, string? expected)
    {
        Assert.Equal(expected is null ? null : IPAddress.Parse(expected), new HostAndPort(host, 1).Address);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("65535", 65535)]
    [InlineData("00080", 80)]
    public void PortNumbersAreParsed(string text, int expected)
    {
        Assert.True(HostAndPort.TryParsePort(text, out int port));
        Assert.Equal(expected, port);
    }

    [Theory]
    [InlineData("65536")]
    [InlineData("-1")]
    [InlineData(" 80")]
    [InlineData("8O")]
    [InlineData("")]
    [InlineData("99999999999")]
    public void InvalidPortNumbersAreRefused(string text)
    {
        Assert.False(HostAndPort.TryParsePort(text, out _));
    }
}
