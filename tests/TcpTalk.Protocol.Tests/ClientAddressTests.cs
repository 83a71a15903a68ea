using System.Net;
using System.Net.Sockets;

namespace TcpTalk.Protocol.Tests;

public class ClientAddressTests
{
    [Theory]
    [InlineData("::ffff:127.0.0.1", "127.0.0.1", AddressFamily.InterNetwork)]
    [InlineData("::ffff:10.1.2.3", "10.1.2.3", AddressFamily.InterNetwork)]
    [InlineData("127.0.0.1", "127.0.0.1", AddressFamily.InterNetwork)]
    [InlineData("::1", "::1", AddressFamily.InterNetworkV6)]
    [InlineData("2001:db8::1", "2001:db8::1", AddressFamily.InterNetworkV6)]
    [InlineData("::127.0.0.1", "::127.0.0.1", AddressFamily.InterNetworkV6)] // IPv4-compatible, not mapped: unchanged
    public void IPv4MappedAddressesAreShownAsIPv4(string address, string expected, AddressFamily family)
    {
        var normalized = ClientAddress.Normalize(IPAddress.Parse(address));
        Assert.Equal(expected, normalized.ToString());
        Assert.Equal(family, normalized.AddressFamily);
    }

    [Theory]
    [InlineData("127.0.0.1", 5000, "127.0.0.1:5000")]
    [InlineData("::ffff:127.0.0.1", 5000, "127.0.0.1:5000")]
    [InlineData("::1", 5000, "[::1]:5000")]
    [InlineData("::", 0, "[::]:0")]
    [InlineData("fe80::1%2", 65535, "[fe80::1%2]:65535")]
    [InlineData("0.0.0.0", 12345, "0.0.0.0:12345")]
    public void EndpointsPutIPv6AddressesInBrackets(string address, int port, string expected)
    {
        Assert.Equal(expected, ClientAddress.FormatEndpoint(IPAddress.Parse(address), port));
        Assert.Equal(expected, ClientAddress.FormatEndpoint(new IPEndPoint(IPAddress.Parse(address), port)));
    }

    [Fact]
    public void NullArgumentsAreRefused()
    {
        Assert.Throws<ArgumentNullException>("address", () => ClientAddress.Normalize(null!));
        Assert.Throws<ArgumentNullException>("endpoint", () => ClientAddress.FormatEndpoint(null!));
    }

    [Fact]
    public void TheLongestScopedEndpointFitsMaxEndpointBytes()
    {
        var address = IPAddress.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        address.ScopeId = uint.MaxValue;
        var destination = new byte[ClientAddress.MaxEndpointBytes];

        Assert.True(ClientAddress.TryFormatEndpoint(address, 65535, destination, out int written));
        Assert.Equal("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535", System.Text.Encoding.ASCII.GetString(destination, 0, written));
        Assert.False(ClientAddress.TryFormatEndpoint(address, 65535, destination.AsSpan(0, written - 1), out _));
    }
}
