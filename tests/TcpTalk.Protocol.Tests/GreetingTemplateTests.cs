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
}
