namespace TcpTalk.Admin.Tests;

/// <summary>Instrument names and units to Prometheus names, and the text format's escaping.</summary>
public sealed class NamingTests
{
    [Theory]
    [InlineData("tcptalk.server.active_connections", "{connection}", false, "tcptalk_server_active_connections")]
    [InlineData("tcptalk.server.messages_received", "{message}", true, "tcptalk_server_messages_received_total")]
    [InlineData("tcptalk.server.bytes_received", "By", true, "tcptalk_server_bytes_received_total")]
    [InlineData("tcptalk.server.message_size", "By", false, "tcptalk_server_message_size_bytes")]
    [InlineData("tcptalk.server.journal_commit_latency", "ms", false, "tcptalk_server_journal_commit_latency_seconds")]
    [InlineData("requests-total", null, true, "requests_total")]
    public void NamesFollowThePrometheusConventions(string instrument, string? unit, bool counter, string expected) =>
        Assert.Equal(expected, PrometheusUnit.From(unit).FamilyName(instrument, counter));

    [Theory]
    [InlineData("ms", 0.001)]
    [InlineData("s", 1.0)]
    [InlineData("By", 1.0)]
    [InlineData("us", 0.000001)]
    public void UnitsConvertToBaseUnits(string unit, double factor) => Assert.Equal(factor, PrometheusUnit.From(unit).Factor);

    [Fact]
    public void LabelValuesAndHelpAreEscaped()
    {
        var text = new System.Text.StringBuilder();
        PrometheusText.AppendLabelValue(text, "a\"b\\c\nd");
        Assert.Equal("a\\\"b\\\\c\\nd", text.ToString());
        Assert.Equal("+Inf", PrometheusText.Number(double.PositiveInfinity));
        Assert.Equal("0.25", PrometheusText.Number(0.25));
    }
}
