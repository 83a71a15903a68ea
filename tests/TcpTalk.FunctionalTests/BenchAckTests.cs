using System.Text.Json;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary><c>tcptalk bench --mode stream --ack</c> against <c>serve --ack</c>, and against a server that never acknowledges.</summary>
public sealed class BenchAckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-benchack-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task EveryMessageIsAcknowledgedWithinTheWindowAndTheLatencyIsCounted()
    {
        await using var server = await Tcptalk.ServeAsync("--journal", Path.Combine(_dir, "talk.db"), "--ack");

        var (code, stdout, stderr) = await Tcptalk.RunAsync(["bench", $"127.0.0.1:{server.Port}", "--mode", "stream", "--ack",
            "--ack-window", "64", "--connections", "2", "--messages", "5000", "--json"]);

        Assert.True(code == 0, string.Join(" | ", stderr));
        var result = JsonDocument.Parse(Assert.Single(stdout)).RootElement;
        Assert.Equal(5000, result.GetProperty("messages").GetInt64());
        Assert.Equal(5000, result.GetProperty("acks").GetInt64());
        var latency = result.GetProperty("ack_latency_us");
        Assert.Equal("ack", latency.GetProperty("kind").GetString());
        Assert.Equal(5000, latency.GetProperty("count").GetInt64());
        Assert.True(latency.GetProperty("p50").GetDouble() > 0);
        Assert.True(latency.GetProperty("p99").GetDouble() >= latency.GetProperty("p50").GetDouble());
        Assert.Equal(0, result.GetProperty("errors").GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task WithoutAcksThereIsNoAckFigureInTheJson()
    {
        await using var server = await Tcptalk.ServeAsync("--no-journal");

        var (code, stdout, _) = await Tcptalk.RunAsync(["bench", $"127.0.0.1:{server.Port}", "--mode", "stream", "--messages", "100", "--json"]);

        Assert.Equal(0, code);
        Assert.False(JsonDocument.Parse(Assert.Single(stdout)).RootElement.TryGetProperty("acks", out _));
    }

    [Fact]
    public async Task AServerThatNeverAcknowledgesExitsWith9AndSaysSo()
    {
        await using var server = await Tcptalk.ServeAsync("--no-journal");

        var (code, _, stderr) = await Tcptalk.RunAsync(["bench", $"127.0.0.1:{server.Port}", "--mode", "stream", "--ack",
            "--ack-window", "16", "--connections", "1", "--messages", "100", "--timeout", "500ms"]);

        Assert.Equal(9, code);
        Assert.Equal("tcptalk: the server acknowledged none of 16 message(s) (does it acknowledge? tcptalk serve does with --ack)",
            Assert.Single(stderr, l => l.StartsWith("tcptalk:", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("session", "--ack", "tcptalk: --ack is for stream mode (--mode stream)")]
    [InlineData("stream", "--ack-window", "tcptalk: --ack-window goes with --ack")]
    public async Task AckFlagsOutsideAnAckedStreamAreUsageErrors(string mode, string flag, string expected)
    {
        string[] args = flag == "--ack-window"
            ? ["bench", "127.0.0.1:9", "--mode", mode, "--ack-window", "8"]
            : ["bench", "127.0.0.1:9", "--mode", mode, "--ack"];
        var (code, _, stderr) = await Tcptalk.RunAsync(args);

        Assert.Equal(2, code);
        Assert.Equal([expected], stderr);
    }
}
