using TcpTalk.Server;

namespace TcpTalk.Server.Tests;

public class TalkServerOptionsTests
{
    [Fact]
    public void Defaults()
    {
        var options = new TalkServerOptions();
        Assert.Equal(12345, options.Port);
        Assert.Equal(65536, options.MaxMessageBytes);
        Assert.Equal(TimeSpan.FromSeconds(5), options.ShutdownTimeout);
        Assert.Equal(1024, options.ListenBacklog);
        Assert.Equal("Welcome {address}!", options.Greeting);
        Assert.Equal(Protocol.FramingMode.Nul, options.Framing);
        Assert.Empty(options.Listen);
        options.Validate();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65535)]
    public void PortValid(int port) => new TalkServerOptions { Port = port }.Validate();

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public void PortInvalid(int port)
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkServerOptions { Port = port }.Validate());
        Assert.Equal($"Port is {port}; it must be between 0 and 65535", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1 << 30)]
    public void MaxMessageBytesValid(int value) => new TalkServerOptions { MaxMessageBytes = value }.Validate();

    [Theory]
    [InlineData(0)]
    [InlineData((1 << 30) + 1)]
    public void MaxMessageBytesInvalid(int value)
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkServerOptions { MaxMessageBytes = value }.Validate());
        Assert.StartsWith($"MaxMessageBytes is {value}; it must be between 1 and", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShutdownTimeoutValidAtZero() => new TalkServerOptions { ShutdownTimeout = TimeSpan.Zero }.Validate();

    [Fact]
    public void ShutdownTimeoutInvalidWhenNegative() =>
        Assert.Throws<ArgumentException>(() => new TalkServerOptions { ShutdownTimeout = TimeSpan.FromSeconds(-1) }.Validate());

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    public void ListenBacklogInvalid(int value) =>
        Assert.Throws<ArgumentException>(() => new TalkServerOptions { ListenBacklog = value }.Validate());

    [Fact]
    public void GreetingInvalidNamesThePlaceholder()
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkServerOptions { Greeting = "Hi {who}" }.Validate());
        Assert.Contains("unknown placeholder '{who}'", error.Message, StringComparison.Ordinal);
    }
}
