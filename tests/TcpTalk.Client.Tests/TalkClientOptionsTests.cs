using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Client.Tests;

public class TalkClientOptionsTests
{
    [Fact]
    public void DefaultsAreValid()
    {
        new TalkClientOptions().Validate();
    }

    [Fact]
    public void FramingDefault() => Assert.Equal(FramingMode.Nul, new TalkClientOptions().Framing);

    [Fact]
    public void EncodingDefault() => Assert.Same(MessageText.Utf8, new TalkClientOptions().Encoding);

    [Fact]
    public void EncodingInvalid()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new TalkClientOptions { Encoding = null! }.Validate());
        Assert.Equal("Encoding", error.ParamName);
    }

    [Fact]
    public void MaxMessageBytesDefault() => Assert.Equal(65536, new TalkClientOptions().MaxMessageBytes);

    [Theory]
    [InlineData(1)]
    [InlineData(65536)]
    [InlineData(1 << 30)]
    public void MaxMessageBytesValid(int value) => new TalkClientOptions { MaxMessageBytes = value }.Validate();

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData((1 << 30) + 1)]
    [InlineData(int.MaxValue)]
    public void MaxMessageBytesInvalid(int value)
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkClientOptions { MaxMessageBytes = value }.Validate());
        Assert.Equal($"MaxMessageBytes is {value}; it must be between 1 and 1073741824", error.Message);
    }

    [Fact]
    public void ConnectTimeoutDefault() => Assert.Equal(TimeSpan.FromSeconds(5), new TalkClientOptions().ConnectTimeout);

    [Theory]
    [InlineData(1L)]
    [InlineData(10_000L)]
    [InlineData(36_000_000_000L)]
    public void ConnectTimeoutValid(long ticks) => new TalkClientOptions { ConnectTimeout = TimeSpan.FromTicks(ticks) }.Validate();

    [Theory]
    [InlineData(0L, "00:00:00")]
    [InlineData(-1L, "-00:00:00.0000001")]
    [InlineData(-10_000_000L, "-00:00:01")]
    public void ConnectTimeoutInvalid(long ticks, string shown)
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkClientOptions { ConnectTimeout = TimeSpan.FromTicks(ticks) }.Validate());
        Assert.Equal($"ConnectTimeout is {shown}; it must be positive", error.Message);
    }

    [Fact]
    public void ResponseTimeoutDefault() => Assert.Equal(TimeSpan.FromSeconds(10), new TalkClientOptions().ResponseTimeout);

    [Theory]
    [InlineData(1L)]
    [InlineData(36_000_000_000L)]
    public void ResponseTimeoutValid(long ticks) => new TalkClientOptions { ResponseTimeout = TimeSpan.FromTicks(ticks) }.Validate();

    [Theory]
    [InlineData(0L, "00:00:00")]
    [InlineData(-1L, "-00:00:00.0000001")]
    public void ResponseTimeoutInvalid(long ticks, string shown)
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkClientOptions { ResponseTimeout = TimeSpan.FromTicks(ticks) }.Validate());
        Assert.Equal($"ResponseTimeout is {shown}; it must be positive", error.Message);
    }

    [Fact]
    public void AttemptDelayDefault() => Assert.Equal(TimeSpan.FromMilliseconds(250), new TalkClientOptions().AttemptDelay);

    [Theory]
    [InlineData(100_000L)]     // 10 ms
    [InlineData(2_500_000L)]   // 250 ms
    [InlineData(20_000_000L)]  // 2 s
    public void AttemptDelayValid(long ticks) => new TalkClientOptions { AttemptDelay = TimeSpan.FromTicks(ticks) }.Validate();

    [Theory]
    [InlineData(99_999L, "00:00:00.0099999")]
    [InlineData(20_000_001L, "00:00:02.0000001")]
    [InlineData(0L, "00:00:00")]
    [InlineData(-100_000L, "-00:00:00.0100000")]
    public void AttemptDelayInvalid(long ticks, string shown)
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkClientOptions { AttemptDelay = TimeSpan.FromTicks(ticks) }.Validate());
        Assert.Equal($"AttemptDelay is {shown}; it must be between 10 ms and 2 s", error.Message);
    }

    [Fact]
    public void ResolverDefault() => Assert.Same(SystemHostResolver.Instance, new TalkClientOptions().Resolver);

    [Fact]
    public void ResolverInvalid()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new TalkClientOptions { Resolver = null! }.Validate());
        Assert.Equal("Resolver", error.ParamName);
    }

    [Fact]
    public void TimeProviderDefault() => Assert.Same(TimeProvider.System, new TalkClientOptions().TimeProvider);

    [Fact]
    public void TimeProviderInvalid()
    {
        var error = Assert.Throws<ArgumentNullException>(() => new TalkClientOptions { TimeProvider = null! }.Validate());
        Assert.Equal("TimeProvider", error.ParamName);
    }

    [Fact]
    public void OnAttemptDefault() => Assert.Null(new TalkClientOptions().OnAttempt);

    [Fact]
    public void FirstInvalidSettingIsNamed()
    {
        var options = new TalkClientOptions { MaxMessageBytes = 0, ConnectTimeout = TimeSpan.Zero, Encoding = Encoding.UTF8 };
        Assert.StartsWith("MaxMessageBytes", Assert.Throws<ArgumentException>(options.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectValidatesOptionsBeforeResolving()
    {
        var resolver = new FakeResolver();
        var options = new TalkClientOptions { Resolver = resolver, AttemptDelay = TimeSpan.Zero };
        var error = await Assert.ThrowsAsync<ArgumentException>(() => TalkClient.ConnectAsync("talk.test", 1, options));
        Assert.Equal("AttemptDelay is 00:00:00; it must be between 10 ms and 2 s", error.Message);
        Assert.Empty(resolver.Asked);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public async Task ConnectRefusesPortsOutOfRange(int port)
    {
        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => TalkClient.ConnectAsync("talk.test", port, new TalkClientOptions { Resolver = new FakeResolver() }));
        Assert.Equal("port", error.ParamName);
    }
}
