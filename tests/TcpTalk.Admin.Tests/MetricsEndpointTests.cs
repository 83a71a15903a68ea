using System.Diagnostics;
using System.Net;

namespace TcpTalk.Admin.Tests;

/// <summary>GET /metrics on a real server with real clients: names, types, exact values, promtool's verdict, concurrency.</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task ShowsTheServersInstrumentsWithExactValues()
    {
        await using var fixture = await AdminFixture.StartAsync();
        using (var client = await fixture.ConnectAsync())
        {
            await AdminFixture.SendAsync(client, "one", "two", "three!");
            string text = await Scrape.UntilAsync(fixture, "tcptalk_server_messages_received_total", 3);

            Assert.Equal(1, Scrape.Value(text, "tcptalk_server_active_connections"));
            Assert.Equal(1, Scrape.Value(text, "tcptalk_server_connections_accepted_total"));
            Assert.Equal(12, Scrape.Value(text, "tcptalk_server_bytes_received_total")); // 3 + 3 + 6
            Assert.Contains("# TYPE tcptalk_server_active_connections gauge\n", text, StringComparison.Ordinal);
            Assert.Contains("# TYPE tcptalk_server_messages_received_total counter\n", text, StringComparison.Ordinal);
            Assert.Contains("# TYPE tcptalk_server_message_size_bytes histogram\n", text, StringComparison.Ordinal);
            Assert.Equal(3, Scrape.Value(text, "tcptalk_server_message_size_bytes_count"));
            Assert.Equal(12, Scrape.Value(text, "tcptalk_server_message_size_bytes_sum"));
            Assert.Equal(3, Scrape.Value(text, "tcptalk_server_message_size_bytes_bucket{le=\"16\"}"));
            Assert.Equal(3, Scrape.Value(text, "tcptalk_server_message_size_bytes_bucket{le=\"+Inf\"}"));
        }

        // The client is gone: active drops to 0 and the session's duration lands in seconds.
        string after = await Scrape.UntilAsync(fixture, "tcptalk_server_active_connections", 0);
        Assert.Equal(1, Scrape.Value(after, "tcptalk_server_session_duration_seconds_count"));
        Assert.Contains("# TYPE tcptalk_server_session_duration_seconds histogram\n", after, StringComparison.Ordinal);
        Assert.True(Scrape.Value(after, "process_cpu_seconds_total") > 0);
        Assert.True(Scrape.Value(after, "process_resident_memory_bytes") > 1_000_000);
        Assert.InRange(Scrape.Value(after, "process_start_time_seconds")!.Value,
            DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
        Assert.NotNull(Scrape.Value(after, "dotnet_gc_collections_total{generation=\"0\"}"));
        Assert.True(Scrape.Value(after, "dotnet_threadpool_threads") >= 1);
    }

    [Fact]
    public async Task ServesTheTextFormatContentType()
    {
        await using var fixture = await AdminFixture.StartAsync();
        using var response = await Scrape.Http.GetAsync(fixture.Url("/metrics"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType?.ToString());
    }

    [ToolFact("promtool")]
    public async Task PassesPromtoolCheckMetrics()
    {
        await using var fixture = await AdminFixture.StartAsync();
        using var client = await fixture.ConnectAsync();
        await AdminFixture.SendAsync(client, "hello", "world");
        string text = await Scrape.UntilAsync(fixture, "tcptalk_server_messages_received_total", 2);

        var (code, output) = await RunAsync("promtool", ["check", "metrics"], text);
        Assert.True(code == 0, $"promtool check metrics exited {code}:\n{output}\n--- exposition:\n{text}");
        Assert.Equal("", output.Trim());
    }

    [Fact]
    public async Task ConcurrentScrapesWhileMessagesArriveAreEachConsistent()
    {
        await using var fixture = await AdminFixture.StartAsync();
        using var client = await fixture.ConnectAsync();
        using var sending = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var sender = Task.Run(async () =>
        {
            int sent = 0;
            while (!sending.IsCancellationRequested && sent < 5000)
            {
                await AdminFixture.SendAsync(client, "m" + sent++);
            }

            return sent;
        });

        var scrapes = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Scrape.MetricsAsync(fixture)));
        int sent = await sender;
        foreach (var text in scrapes)
        {
            if (Scrape.Value(text, "tcptalk_server_message_size_bytes_count") is { } count)
            {
                Assert.Equal(count, Scrape.Value(text, "tcptalk_server_message_size_bytes_bucket{le=\"+Inf\"}"));
                Assert.InRange(count, 0, sent);
            }
        }

        await Scrape.UntilAsync(fixture, "tcptalk_server_messages_received_total", sent);
    }

    internal static async Task<(int Code, string Output)> RunAsync(string file, string[] args, string stdin)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        args.ToList().ForEach(start.ArgumentList.Add);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
