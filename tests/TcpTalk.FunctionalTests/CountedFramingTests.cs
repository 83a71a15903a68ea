using System.Globalization;
using System.Text.Json;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// <c>--framing octet|u16be|u32be</c> end to end through tcptalk itself: <c>send</c> to <c>serve</c> (greeting and
/// acks framed the same way), the refusals <c>send</c> makes before connecting, and <c>bench --mode stream</c>.
/// </summary>
public class CountedFramingTests
{
    [Theory]
    [InlineData("octet")]
    [InlineData("u16be")]
    [InlineData("u32be")]
    public async Task SendToServeWithAcksInEachCountedFraming(string framing)
    {
        string journal = Path.Combine(Directory.CreateTempSubdirectory("tcptalk-framing-").FullName, "journal.db");
        await using var server = await Tcptalk.ServeAsync("--framing", framing, "--journal", journal, "--ack");

        var (code, stdout, stderr) = await Tcptalk.RunAsync(
            ["send", $"127.0.0.1:{server.Port}", "--framing", framing, "first", "with\nnewline", "12 digits 345"]);

        Assert.True(code == 0, $"exit {code}: {string.Join(" | ", stderr)}");
        Assert.Equal("Welcome 127.0.0.1!", stdout[0]);
        await server.Process.WaitForLineAsync(l => l.EndsWith(" 12 digits 345", StringComparison.Ordinal));
        var texts = server.Process.Stdout.Select(PrefixedPeerTests.Text).ToList();
        Assert.Equal(["first", "with\\nnewline", "12 digits 345"], texts);
    }

    [Fact]
    public async Task SendRefusesAnEmptyMessageInOctetFramingBeforeConnecting()
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--framing", "octet", "127.0.0.1:9", "ok", ""]);

        Assert.Equal(2, code);
        Assert.Equal(["tcptalk: message 2: message is empty, which octet-counted framing cannot carry (RFC 6587 lengths start at 1)"], stderr);
    }

    [Fact]
    public async Task SendWithTheWrongFramingNamesTheLikelyCause()
    {
        await using var server = await Tcptalk.ServeAsync(); // nul
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "--framing", "octet", "hi"]);

        Assert.NotEqual(0, code);
        string line = Assert.Single(stderr);
        Assert.StartsWith("tcptalk: ", line, StringComparison.Ordinal);
        Assert.Contains("is this a TcpTalk server with octet framing?", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("octet")]
    [InlineData("u16be")]
    [InlineData("u32be")]
    public async Task BenchStreamModeDeliversExactlyThatManyFramedMessages(string framing)
    {
        await using var server = await Tcptalk.ServeAsync("--framing", framing);

        var (code, stdout, stderr) = await Tcptalk.RunAsync(
            ["bench", $"127.0.0.1:{server.Port}", "--json", "--mode", "stream", "--connections", "2", "--messages", "3000", "--framing", framing],
            timeout: TimeSpan.FromSeconds(60));

        Assert.True(code == 0, $"exit {code}: {string.Join(" | ", stderr)}");
        using var json = JsonDocument.Parse(Assert.Single(stdout));
        var result = json.RootElement;
        Assert.Equal(3000, result.GetProperty("messages").GetInt64());
        Assert.Equal(0, result.GetProperty("errors").GetProperty("total").GetInt64());
        Assert.Equal(framing, result.GetProperty("framing").GetString());
        int header = framing switch { "octet" => 3, "u16be" => 2, _ => 4 }; // 32-byte messages: "32 "
        Assert.Equal(3000L * (32 + header), result.GetProperty("bytes").GetInt64());
        await server.Process.WaitForLineAsync(_ => server.Process.Stdout.Count >= 3000, timeout: TimeSpan.FromSeconds(30));
        Assert.All(server.Process.Stdout, l => Assert.Matches(@" s0-\d+x*$", l));
        Assert.Equal(3000, server.Process.Stdout.Count);
    }

    [Fact]
    public async Task BenchSessionModeRefusesACountedFramingAsAUsageError()
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["bench", "127.0.0.1:9", "--framing", "u16be"]);

        Assert.Equal(2, code);
        Assert.Equal(["tcptalk: --framing u16be is for stream and hold mode; session mode frames with nul or line"], stderr);
    }
}
