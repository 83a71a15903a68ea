using Spectre.Console;
using TcpTalk.Load;

namespace TcpTalk.Load.Tests;

/// <summary>The summary table <c>tcptalk bench</c> prints: units, and what each mode shows.</summary>
public class BenchReportTests
{
    [Fact]
    public void LatencyFiguresShareOneUnitNamedInTheHeader()
    {
        string table = Render(Result("session", p50: 5_210.1, p90: 9_000, p99: 21_890, p999: 30_500, max: 41_000.4));

        string[] rows = LatencyRows(table);
        Assert.Equal(5, rows.Length);
        Assert.All(rows, row => Assert.DoesNotContain("µs", row, StringComparison.Ordinal));
        Assert.All(rows, row => Assert.DoesNotContain(" ms", row, StringComparison.Ordinal));
        Assert.Contains("5.21", rows[0], StringComparison.Ordinal);
        Assert.Contains("21.89", rows[2], StringComparison.Ordinal);
        Assert.Contains("41.00", rows[4], StringComparison.Ordinal);
        Assert.Matches(@"latency, connect to close \(n=1,000\)\s*│\s*ms\s*│", table);
    }

    [Fact]
    public void ShortLatenciesAreInMicrosecondsThroughout()
    {
        string table = Render(Result("session", p50: 120.4, p90: 300, p99: 950.2, p999: 2_000, max: 12_345.6));

        string[] rows = LatencyRows(table);
        Assert.Contains("120.4", rows[0], StringComparison.Ordinal);
        Assert.Contains("12,345.6", rows[4], StringComparison.Ordinal);
        Assert.Matches(@"│\s*µs\s*│", table);
    }

    [Fact]
    public void HoldModeShowsNoMessageSize()
    {
        Assert.DoesNotContain("32 B", Render(Result("hold")), StringComparison.Ordinal);
        Assert.Contains("32 B", Render(Result("session")), StringComparison.Ordinal);
        Assert.Contains("32 B", Render(Result("stream")), StringComparison.Ordinal);
    }

    /// <summary>The rows p50, p90, p99, p99.9 and max of the rendered table, in that order.</summary>
    private static string[] LatencyRows(string table) => table.Split('\n')
        .Where(line => System.Text.RegularExpressions.Regex.IsMatch(line, @"^│\s+(p50|p90|p99|p99\.9|max)\s+│"))
        .ToArray();

    private static string Render(BenchResult result)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        console.Profile.Width = 120;
        BenchReport.Write(result, console);
        return writer.ToString();
    }

    private static BenchResult Result(string mode, double p50 = 100, double p90 = 200, double p99 = 300, double p999 = 400, double max = 500) => new()
    {
        Mode = mode,
        Host = "localhost",
        Port = 12345,
        Address = "127.0.0.1",
        Connections = 64,
        MessageBytes = 32,
        Framing = "nul",
        Tls = false,
        ElapsedS = 10,
        Errors = new Dictionary<string, long> { ["total"] = 0 },
        LatencyUs = new LatencySummary { Kind = mode == "session" ? "session" : "greeting", Count = 1_000, P50 = p50, P90 = p90, P99 = p99, P999 = p999, Max = max },
    };
}
