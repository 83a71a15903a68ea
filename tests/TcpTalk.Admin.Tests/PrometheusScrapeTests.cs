using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace TcpTalk.Admin.Tests;

/// <summary>
/// A real Prometheus (Debian's package), started by the test with its own config and storage on a free loopback
/// port, scrapes the endpoint every second; its query API must return the server's series with the live value.
/// The packaged service (if the package started one) is never used.
/// </summary>
public sealed class PrometheusScrapeTests
{
    [ToolFact("prometheus")]
    public async Task PrometheusScrapesAndQueriesActiveConnections()
    {
        await using var fixture = await AdminFixture.StartAsync();
        using var client = await fixture.ConnectAsync();
        await Scrape.UntilAsync(fixture, "tcptalk_server_active_connections", 1);

        string dir = Directory.CreateTempSubdirectory("tcptalk-prometheus-").FullName;
        int port = FreeLoopbackPort();
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: tcptalk
                static_configs:
                  - targets: ['{fixture.Admin.BoundEndpoint}']
            """);
        var start = new ProcessStartInfo("prometheus")
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[]
        {
            $"--config.file={dir}/prometheus.yml", $"--storage.tsdb.path={dir}/data",
            $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var prometheus = Process.Start(start)!;
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        prometheus.ErrorDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        prometheus.OutputDataReceived += (_, e) => { if (e.Data is not null) { log.Enqueue(e.Data); } };
        prometheus.BeginErrorReadLine();
        prometheus.BeginOutputReadLine();
        try
        {
            var query = new Uri($"http://127.0.0.1:{port}/api/v1/query?query=tcptalk_server_active_connections");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90); // Prometheus starts slowly on a loaded machine
            string? value = null;
            while (value is null)
            {
                Assert.False(prometheus.HasExited, $"prometheus exited {(prometheus.HasExited ? prometheus.ExitCode : 0)}:\n{string.Join('\n', log)}");
                Assert.True(DateTime.UtcNow < deadline, $"no tcptalk_server_active_connections from Prometheus in 90 s:\n{string.Join('\n', log)}");
                value = await QueryValueAsync(query);
                if (value is null)
                {
                    await Task.Delay(500);
                }
            }

            Assert.Equal("1", value);
        }
        finally
        {
            prometheus.Kill(); // by this process's handle (its PID), nothing else
            await prometheus.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token);
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The first result's value, or null while Prometheus is not up or has not scraped the series yet.</summary>
    private static async Task<string?> QueryValueAsync(Uri query)
    {
        try
        {
            using var json = JsonDocument.Parse(await Scrape.Http.GetStringAsync(query));
            var result = json.RootElement.GetProperty("data").GetProperty("result");
            foreach (var series in result.EnumerateArray())
            {
                if (series.GetProperty("metric").GetProperty("job").GetString() == "tcptalk")
                {
                    return series.GetProperty("value")[1].GetString();
                }
            }

            return null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }
}
