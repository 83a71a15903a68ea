using TcpTalk.Protocol;

namespace TcpTalk.Protocol.Tests;

/// <summary>The one duration grammar, and the formatter that writes what it reads.</summary>
public class DurationTextTests
{
    [Theory]
    [InlineData("5", 5_000)]
    [InlineData("5s", 5_000)]
    [InlineData(" 1.5S ", 1_500)]
    [InlineData("250ms", 250)]
    [InlineData("2m", 120_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("0", 0)]
    [InlineData("00:00:05", 5_000)]
    [InlineData("1.00:00:00", 86_400_000)]
    public void ParsesWhatPeopleType(string text, long milliseconds)
    {
        Assert.True(DurationText.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-5s")]
    [InlineData("5d")]
    [InlineData("25h")]
    [InlineData("1.00:00:01")]
    [InlineData("-00:00:05")]
    [InlineData("NaN")]
    [InlineData(null)]
    public void RefusesAnythingElse(string? text) => Assert.False(DurationText.TryParse(text, out _));

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(500, "500ms")]
    [InlineData(1_500, "1500ms")]
    [InlineData(5_000, "5s")]
    [InlineData(90_000, "90s")]
    [InlineData(120_000, "2m")]
    [InlineData(3_600_000, "1h")]
    [InlineData(86_400_000, "24h")]
    public void FormatsTheShortestExactSpellingWhichParsesBack(long milliseconds, string expected)
    {
        var time = TimeSpan.FromMilliseconds(milliseconds);

        Assert.Equal(expected, DurationText.Format(time));
        Assert.True(DurationText.TryParse(DurationText.Format(time), out var back));
        Assert.Equal(time, back);
    }

    [Fact]
    public void ANegativeDurationIsWrittenWithItsSign() => Assert.Equal("-5s", DurationText.Format(TimeSpan.FromSeconds(-5)));
}
