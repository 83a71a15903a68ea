using System.Globalization;
using System.Net.Http;

namespace TcpTalk.Admin.Tests;

/// <summary>Scrapes over real HTTP and reads sample values out of the text format.</summary>
internal static class Scrape
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public static HttpClient Http => s_http;

    public static Task<string> MetricsAsync(AdminFixture fixture) => s_http.GetStringAsync(fixture.Url("/metrics"));

    /// <summary>The value of the sample line whose name-and-labels part is exactly <paramref name="series"/>, or null.</summary>
    public static double? Value(string exposition, string series)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line.AsSpan(series.Length + 1), NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>Scrapes until <paramref name="series"/> has <paramref name="expected"/>; the last exposition is returned. Bounded (10 s).</summary>
    public static async Task<string> UntilAsync(AdminFixture fixture, string series, double expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string text;
        while (Value(text = await MetricsAsync(fixture), series) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{series} never became {expected}; last scrape:\n{text}");
            await Task.Delay(20);
        }

        return text;
    }
}
