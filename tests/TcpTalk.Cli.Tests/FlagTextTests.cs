using System.Text;
using TcpTalk.Cli.Commands;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Tests;

/// <summary>Defaults written as their flags accept them (help and completions: issue 16).</summary>
public class FlagTextTests
{
    [Theory]
    [InlineData(0, "0s")]
    [InlineData(250, "250ms")]
    [InlineData(1_500, "1500ms")]
    [InlineData(5_000, "5s")]
    [InlineData(60_000, "1m")]
    [InlineData(90_000, "90s")]
    [InlineData(120_000, "2m")]
    [InlineData(150_000, "150s")]
    [InlineData(5_400_000, "90m")]
    [InlineData(21_600_000, "6h")]
    public void ADurationIsWrittenAsTheDocsWriteIt(int milliseconds, string expected)
    {
        Assert.Equal(expected, FlagText.Duration(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(250)]
    [InlineData(1_234)]
    [InlineData(10_000)]
    [InlineData(120_000)]
    [InlineData(7_200_000)]
    [InlineData(86_400_000)]
    public void EveryDurationItWritesIsAcceptedByTheDurationFlagsAsTheSameValue(int milliseconds)
    {
        var time = TimeSpan.FromMilliseconds(milliseconds);

        Assert.True(DurationText.TryParse(FlagText.Duration(time), out var parsed), FlagText.Duration(time));
        Assert.Equal(time, parsed);
    }

    [Fact]
    public void ValuesAreWrittenByTheirTypeInTheSpellingTheFlagTakes()
    {
        Assert.Equal("utf-8", FlagText.Format(MessageText.Utf8));
        Assert.Equal("utf-8", FlagText.Format(Encoding.UTF8));
        Assert.Equal("nul", FlagText.Format(FramingMode.Nul));
        Assert.Equal("10s", FlagText.Format(TimeSpan.FromSeconds(10)));
        Assert.Equal("65536", FlagText.Format(65536));
        Assert.Equal("./tcptalk.db", FlagText.Format("./tcptalk.db"));
        Assert.Null(FlagText.Format(null));
        Assert.Null(FlagText.Format(Array.Empty<string>()));
        Assert.Equal("hold-open", FlagText.EnumName("HoldOpen"));
    }
}
