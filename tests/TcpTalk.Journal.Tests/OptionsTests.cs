namespace TcpTalk.Journal.Tests;

public class OptionsTests
{
    [Fact]
    public void DefaultsAreValidAndAsDocumented()
    {
        var options = new JournalOptions();
        options.Validate();
        Assert.Equal(JournalDurability.Normal, options.Durability);
        Assert.Equal(1024, options.MaxQueuedBatches);
        Assert.Equal(TimeSpan.FromSeconds(5), options.LockTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), options.RecoveryProbeInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(20), new JournalReaderOptions().PollInterval);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1 << 20)]
    public void MaxQueuedBatchesValid(int value) => new JournalOptions { MaxQueuedBatches = value }.Validate();

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData((1 << 20) + 1)]
    public void MaxQueuedBatchesInvalid(int value)
    {
        var error = Assert.Throws<ArgumentException>(() => new JournalOptions { MaxQueuedBatches = value }.Validate());
        Assert.Equal($"MaxQueuedBatches is {value}; it must be between 1 and 1048576", error.Message);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 1)]
    [InlineData(1001, 2)]
    [InlineData(3_600_000, 3600)]
    public void LockTimeoutValid(int milliseconds, int adoSeconds)
    {
        var options = new JournalOptions { LockTimeout = TimeSpan.FromMilliseconds(milliseconds) };
        options.Validate();
        Assert.Equal(adoSeconds, options.LockTimeoutSeconds);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3_600_001)]
    public void LockTimeoutInvalid(int milliseconds)
    {
        var error = Assert.Throws<ArgumentException>(() => new JournalOptions { LockTimeout = TimeSpan.FromMilliseconds(milliseconds) }.Validate());
        Assert.StartsWith("LockTimeout is ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("; it must be between 0 and 1 hour", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DurabilityInvalid()
    {
        var error = Assert.Throws<ArgumentException>(() => new JournalOptions { Durability = (JournalDurability)7 }.Validate());
        Assert.Equal("Durability is 7; it must be Normal or Full", error.Message);
    }

    [Theory]
    [InlineData(0.999)]
    [InlineData(60_001)]
    public void PollIntervalInvalid(double milliseconds)
    {
        var error = Assert.Throws<ArgumentException>(() => new JournalReaderOptions { PollInterval = TimeSpan.FromMilliseconds(milliseconds) }.Validate());
        Assert.StartsWith("PollInterval is ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(60_000)]
    public void PollIntervalValid(double milliseconds) =>
        new JournalReaderOptions { PollInterval = TimeSpan.FromMilliseconds(milliseconds) }.Validate();

    [Theory]
    [InlineData(10)]
    [InlineData(3_600_000)]
    public void RecoveryProbeIntervalValid(int milliseconds) =>
        new JournalOptions { RecoveryProbeInterval = TimeSpan.FromMilliseconds(milliseconds) }.Validate();

    [Theory]
    [InlineData(9)]
    [InlineData(3_600_001)]
    public void RecoveryProbeIntervalInvalid(int milliseconds)
    {
        var error = Assert.Throws<ArgumentException>(() => new JournalOptions { RecoveryProbeInterval = TimeSpan.FromMilliseconds(milliseconds) }.Validate());
        Assert.EndsWith("; it must be between 10 ms and 1 hour", error.Message, StringComparison.Ordinal);
    }
}
