using System.Net;
using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Protocol.Tests;

public class GreetingTemplateTests
{
    [Theory]
    [InlineData("127.0.0.1", "Welcome 127.0.0.1!")]
    [InlineData("::ffff:127.0.0.1", "Welcome 127.0.0.1!")]
    [InlineData("::1", "Welcome ::1!")]
    public void DefaultGreetingShowsClientAddressLikeTheClassicServer(string address, string expected)
    {
        byte[] greeting = GreetingTemplate.Default.Format(IPAddress.Parse(address), 5000);
        Assert.Equal(expected, Encoding.ASCII.GetString(greeting));
    }

    [Fact]
    public void PortPlaceholderAndEscapedBracesAreFormatted()
    {
        var template = GreetingTemplate.Parse("{{hi}} {address}:{port}", Encoding.UTF8);
        Assert.Equal("{hi} 10.0.0.1:65535", Encoding.ASCII.GetString(template.Format(IPAddress.Parse("10.0.0.1"), 65535)));
    }

    [Theory]
    [InlineData("Hello {name}", "unknown placeholder '{name}'")]
    [InlineData("Hello {address", "never closed")]
    [InlineData("Hello }", "without a matching")]
    public void InvalidTemplateIsRefusedWithTheReason(string text, string reason)
    {
        var error = Assert.Throws<FormatException>(() => GreetingTemplate.Parse(text, Encoding.UTF8));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GreetingHoldsTheLongestIPv6AddressWithAScopeId()
    {
        // Found by fuzzing (fuzz/regressions/inputs/greeting-scoped-address-overflows): 45 bytes were reserved for the
        // address, so a scoped one did not fit and the port after it was silently left out.
        var address = IPAddress.Parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        address.ScopeId = uint.MaxValue;
        var template = GreetingTemplate.Parse("Hi {address} {port}", Encoding.UTF8);
        var destination = new byte[template.MaxFormattedBytes];

        int length = template.Format(address, 65535, destination);

        Assert.Equal("Hi ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295 65535", Encoding.ASCII.GetString(destination, 0, length));
    }

    [Theory]
    [InlineData("Hi \u2603", "cp437", "greeting template has '\u2603', which the encoding ibm437 cannot encode")]
    [InlineData("Hi \U0001F600!", "gbk", "greeting template has '\U0001F600', which the encoding gb2312 cannot encode")]
    [InlineData("Hi \u202e", "windows-1252", "greeting template has '\\u202e', which the encoding windows-1252 cannot encode")]
    public void GreetingTheEncodingCannotCarryIsAFormatError(string text, string encoding, string expected)
    {
        // Found by fuzzing (fuzz/regressions/inputs/greeting-unencodable-in-gbk): an EncoderFallbackException escaped.
        var error = Assert.Throws<FormatException>(() => GreetingTemplate.Parse(text, MessageText.GetEncoding(encoding)));
        Assert.Equal(expected, error.Message);
    }
}
