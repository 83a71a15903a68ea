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

    [Fact]
    public void KeepAliveDefaults()
    {
        var options = new TalkServerOptions();
        Assert.Equal(TimeSpan.FromMinutes(2), options.KeepAliveTime);
        Assert.Equal(TimeSpan.FromSeconds(10), options.KeepAliveInterval);
        Assert.Equal(5, options.KeepAliveCount);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3600)]
    public void KeepAliveIntervalValid(int seconds) => new TalkServerOptions { KeepAliveInterval = TimeSpan.FromSeconds(seconds) }.Validate();

    [Theory]
    [InlineData(0)]
    [InlineData(3601)]
    public void KeepAliveIntervalInvalid(int seconds)
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkServerOptions { KeepAliveInterval = TimeSpan.FromSeconds(seconds) }.Validate());
        Assert.StartsWith("KeepAliveInterval is ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(127)]
    public void KeepAliveCountValid(int count) => new TalkServerOptions { KeepAliveCount = count }.Validate();

    [Theory]
    [InlineData(0)]
    [InlineData(128)]
    public void KeepAliveCountInvalid(int count)
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkServerOptions { KeepAliveCount = count }.Validate());
        Assert.Equal($"KeepAliveCount is {count}; it must be between 1 and 127", error.Message);
    }

    [Fact]
    public void MaxConnectionsDefaultIsDerivedFromTheDescriptorLimit()
    {
        long? limit = DescriptorLimit.TryGetSoftLimit();
        Assert.Equal(DescriptorLimit.FromSoftLimit(limit), new TalkServerOptions().MaxConnections);
        if (OperatingSystem.IsLinux())
        {
            // The same number the kernel shows for this process (the runtime may have raised the soft limit at start).
            string line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            string soft = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
            Assert.Equal(soft == "unlimited" ? null : long.Parse(soft, System.Globalization.CultureInfo.InvariantCulture), limit);
        }
        else if (OperatingSystem.IsWindows())
        {
            Assert.Null(limit);
            Assert.Equal(10_000, new TalkServerOptions().MaxConnections);
        }
    }

    [Theory]
    [InlineData(null, 10_000)]        // Windows, unlimited
    [InlineData(1_048_576L, 10_000)]  // systemd, Docker
    [InlineData(10_256L, 10_000)]
    [InlineData(10_255L, 9_999)]
    [InlineData(1_024L, 768)]         // the usual shell default
    [InlineData(512L, 256)]
    [InlineData(256L, 64)]            // tiny limits keep a quarter for clients
    [InlineData(3L, 1)]
    public void MaxConnectionsDefaultKeepsAReserveOfDescriptors(long? softLimit, int expected) =>
        Assert.Equal(expected, DescriptorLimit.FromSoftLimit(softLimit));
}
