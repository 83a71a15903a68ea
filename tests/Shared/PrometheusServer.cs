using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace TcpTalk.TestSupport;

/// <summary>
/// A real Prometheus (Debian's package), started by a test with its own config and storage in a temporary directory,
/// on a free loopback port, scraping one target every second. The packaged service (if the package started one) is
/// never used. Disposing kills it by its PID and deletes the directory.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly ConcurrentQueue<string> _log = new();
    private readonly int _port;

    private PrometheusServer(Process process, string dir, int port)
    {
        (_process, _dir, _port) = (process, dir, port);
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _log.Enqueue(e.Data); } };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _log.Enqueue(e.Data); } };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    /// <summary>Starts Prometheus scraping <paramref name="target"/> (<c>127.0.0.1:9464</c>) as job <c>tcptalk</c>.</summary>
    public static PrometheusServer Start(string target)
    {
        string dir = Directory.CreateTempSubdirectory("tcptalk-prometheus-").FullName;
        int port = FreeLoopbackPort();
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: tcptalk
                static_configs:
                  - targets: ['{target}']
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

        return new PrometheusServer(Process.Start(start)!, dir, port);
    }

    /// <summary>
    /// Queries <paramref name="query"/> through the HTTP API until the job's series has a value, and returns it;
    /// fails after <paramref name="timeout"/> (Prometheus starts slowly on a loaded machine) with its log.
    /// </summary>
    public async Task<string> WaitForValueAsync(string query, TimeSpan timeout)
    {
        var uri = new Uri($"http://127.0.0.1:{_port}/api/v1/query?query={Uri.EscapeDataString(query)}");
        var deadline = DateTime.UtcNow + timeout;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        while (true)
        {
            Assert.False(_process.HasExited, $"prometheus exited {(_process.HasExited ? _process.ExitCode : 0)}:\n{string.Join('\n', _log)}");
            if (await QueryValueAsync(http, uri) is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no {query} from Prometheus in {timeout.TotalSeconds} s:\n{string.Join('\n', _log)}");
            await Task.Delay(500);
        }
    }

    /// <summary>The tcptalk job's first value, or null while Prometheus is not up or has not scraped the series yet.</summary>
    private static async Task<string?> QueryValueAsync(HttpClient http, Uri query)
    {
        try
        {
            using var json = JsonDocument.Parse(await http.GetStringAsync(query));
            foreach (var series in json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
            {
                if (series.GetProperty("metric").GetProperty("job").GetString() == "tcptalk")
                {
                    return series.GetProperty("value")[1].GetString();
                }
            }

            return null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
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

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(); // by this process's handle (its PID), nothing else
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(wait.Token);
        _process.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
