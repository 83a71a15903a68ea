using System.Net;
using System.Net.Http;
using System.Text;
using System.Text.RegularExpressions;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// <c>serve --admin-listen</c> as an operator uses it: the real tool, scraped over HTTP by promtool and by a real
/// Prometheus, probed on /readyz while serving and while draining (AdminJournalReadinessTests: while the journal fails).
/// </summary>
public sealed partial class AdminEndpointTests
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>The admin endpoint's base address from serve's log line (<c>Admin endpoint on http://127.0.0.1:PORT ...</c>).</summary>
    internal static async Task<Uri> AdminUrlAsync(RunningProcess serve)
    {
        string line = await serve.WaitForLineAsync(l => l.Contains("Admin endpoint on http://", StringComparison.Ordinal), stderr: true);
        return new Uri(AdminUrl().Match(line).Groups[1].Value);
    }

    [GeneratedRegex(@"Admin endpoint on (http://\S+) \(/metrics, /healthz, /readyz\)")]
    private static partial Regex AdminUrl();

    internal static async Task<(HttpStatusCode Status, string Body)> GetAsync(Uri admin, string path)
    {
        using var response = await s_http.GetAsync(new Uri(admin, path));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Scrapes until the exposition has the sample line <paramref name="sample"/>; bounded (10 s).</summary>
    private static async Task<string> ScrapeUntilAsync(Uri admin, string sample)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        string text;
        while (!(text = (await GetAsync(admin, "/metrics")).Body).Split('\n').Contains(sample))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no '{sample}' in /metrics; last scrape:\n{text}");
            await Task.Delay(50);
        }

        return text;
    }

    internal static async Task ReadyWithinAsync(Uri admin, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        (HttpStatusCode Status, string Body) probe;
        while ((probe = await GetAsync(admin, "/readyz")).Status != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, $"/readyz still {(int)probe.Status} '{probe.Body.Trim()}' after {timeout.TotalSeconds} s");
            await Task.Delay(100);
        }

        Assert.Equal("ready\n", probe.Body);
    }

    [Fact]
    public async Task WithoutTheFlagThereIsNoAdminEndpoint()
    {
        await using var server = await Tcptalk.ServeAsync();
        using (await RawClient.ConnectAsync(server.Loopback))
        {
        }

        Assert.Equal(0, await server.StopAsync());
        Assert.DoesNotContain(server.Process.Stderr, l => l.Contains("Admin endpoint", StringComparison.Ordinal));
    }

    [ToolFact("promtool")]
    public async Task ServeMetricsCountTheConnectionsAndPassPromtoolCheckMetrics()
    {
        await using var server = await Tcptalk.ServeAsync("--admin-listen", "127.0.0.1:0");
        var admin = await AdminUrlAsync(server.Process);
        using var client = await RawClient.ConnectAsync(server.Loopback);
        await client.ReadFrameAsync();
        await client.SendAsync(Encoding.UTF8.GetBytes("one\0two\0"));
        string text = await ScrapeUntilAsync(admin, "tcptalk_server_messages_received_total 2");
        Assert.Contains("tcptalk_server_active_connections 1", text.Split('\n'));
        Assert.Contains(text.Split('\n'), l => l.StartsWith("process_resident_memory_bytes ", StringComparison.Ordinal));

        await using var promtool = RunningProcess.Start("promtool", ["check", "metrics"], stdinText: text);
        int code = await promtool.WaitForExitAsync(TimeSpan.FromSeconds(30));
        Assert.True(code == 0, $"promtool check metrics exited {code}: {string.Join('\n', promtool.Stdout.Concat(promtool.Stderr))}\n--- exposition:\n{text}");
        Assert.DoesNotContain(promtool.Stdout.Concat(promtool.Stderr), l => l.Trim().Length > 0);
    }

    [ToolFact("prometheus")]
    public async Task PrometheusScrapesServeAndItsQueryApiReturnsTheActiveConnections()
    {
        await using var server = await Tcptalk.ServeAsync("--admin-listen", "127.0.0.1:0");
        var admin = await AdminUrlAsync(server.Process);
        using var first = await RawClient.ConnectAsync(server.Loopback);
        using var second = await RawClient.ConnectAsync(server.Loopback);
        await ScrapeUntilAsync(admin, "tcptalk_server_active_connections 2");

        await using var prometheus = PrometheusServer.Start(admin.Authority);
        Assert.Equal("2", await prometheus.WaitForValueAsync("tcptalk_server_active_connections", TimeSpan.FromSeconds(90)));
    }

    [Fact]
    public async Task ReadyzIsReadyWhileServingAndSaysDrainingOnceTheStopBegins()
    {
        await using var server = await Tcptalk.ServeAsync("--admin-listen", "127.0.0.1:0", "--shutdown-timeout", "20s");
        var admin = await AdminUrlAsync(server.Process);
        Assert.Equal((HttpStatusCode.OK, "ready\n"), await GetAsync(admin, "/readyz"));
        Assert.Equal((HttpStatusCode.OK, "ok\n"), await GetAsync(admin, "/healthz"));

        // A message in flight holds the stop open (up to the shutdown timeout): that is the drain.
        using var client = await RawClient.ConnectAsync(server.Loopback);
        await client.ReadFrameAsync();
        await client.SendAsync("half a mess"u8.ToArray());
        await ScrapeUntilAsync(admin, "tcptalk_server_active_connections 1");
        server.Process.Signal("TERM");
        await server.Process.WaitForLineAsync(l => l.Contains("Stopping: no new connections", StringComparison.Ordinal), stderr: true);

        Assert.Equal((HttpStatusCode.ServiceUnavailable, "server is draining\n"), await GetAsync(admin, "/readyz"));
        Assert.Equal((HttpStatusCode.OK, "ok\n"), await GetAsync(admin, "/healthz")); // alive: still finishing its work
        await client.SendAsync("age\0"u8.ToArray());
        client.HalfClose();
        Assert.Equal(0, await server.Process.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("half a message", server.Process.Stdout.Single());
    }
}
