namespace TcpTalk.Admin.Tests;

/// <summary>
/// A real Prometheus (<see cref="PrometheusServer"/>) scrapes the endpoint every second; its query API must return
/// the server's series with the live value.
/// </summary>
public sealed class PrometheusScrapeTests
{
    [ToolFact("prometheus")]
    public async Task PrometheusScrapesAndQueriesActiveConnections()
    {
        await using var fixture = await AdminFixture.StartAsync();
        using var client = await fixture.ConnectAsync();
        await Scrape.UntilAsync(fixture, "tcptalk_server_active_connections", 1);

        await using var prometheus = PrometheusServer.Start(fixture.Admin.BoundEndpoint!.ToString());
        Assert.Equal("1", await prometheus.WaitForValueAsync("tcptalk_server_active_connections", TimeSpan.FromSeconds(90)));
    }
}
