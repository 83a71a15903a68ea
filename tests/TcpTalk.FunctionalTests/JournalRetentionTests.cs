using System.Text;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary><c>serve --journal-max-bytes</c> and <c>--journal-max-age</c> through the real CLI: the oldest messages go whole, one log line per drop.</summary>
public sealed class JournalRetentionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-retention-").FullName;

    private string Db => Path.Combine(_dir, "talk.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] Messages(int first, int count, int bytes)
    {
        var text = new StringBuilder();
        for (int i = first; i < first + count; i++)
        {
            text.Append(i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture)).Append('x', bytes - 8).Append('\0');
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    private async Task<long[]> StoredIdsAsync()
    {
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["messages", "--journal", Db, "--json"]);
        Assert.True(code == 0, string.Join(" | ", stderr));
        return [.. stdout.Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("id").GetInt64())];
    }

    [Fact]
    public async Task MaxBytesDropsTheOldestMessagesWholeAndLogsTheDrop()
    {
        await using (var server = await Tcptalk.ServeAsync("--journal", Db, "--journal-max-bytes", "1MiB"))
        {
            using var client = await RawClient.ConnectAsync(server.Loopback);
            await client.ReadFrameAsync();
            for (int round = 0; round < 4; round++)
            {
                // 800 kB a round, a round a second: retention runs at most once a second, after a commit.
                await client.SendAsync(Messages(round * 800, 800, 1000));
                await Task.Delay(1100);
            }

            await client.SendAsync(Messages(3200, 1, 1000));
            string line = await server.Process.WaitForLineAsync(l => l.Contains("oldest message(s) whole (max bytes 1048576)", StringComparison.Ordinal), stderr: true);
            Assert.Matches(@"Journal .*talk\.db dropped its \d+ oldest message\(s\) whole \(max bytes 1048576\); the oldest id kept is \d+", line);
            client.HalfClose();
            await client.ReadToEndAsync();
            Assert.Equal(0, await server.StopAsync());
        }

        long[] ids = await StoredIdsAsync();
        Assert.Equal(3201, ids[^1]); // the newest are kept, ids never restart
        Assert.True(ids[0] > 1, $"the oldest id kept is {ids[0]}");
        Assert.Equal(Enumerable.Range((int)ids[0], ids.Length).Select(i => (long)i), ids); // whole batches: no hole
        Assert.True(ids.Length * 1000 < 1_200_000, $"{ids.Length} messages of 1000 bytes kept");
    }

    [Fact]
    public async Task MaxAgeDropsMessagesReceivedLongerAgoAndKeepsTheNewest()
    {
        await using (var server = await Tcptalk.ServeAsync("--journal", Db, "--journal-max-age", "1s"))
        {
            var (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "old one", "old two"]);
            Assert.Equal(0, code);
            await Task.Delay(2100);
            (code, _, _) = await Tcptalk.RunAsync(["send", $"127.0.0.1:{server.Port}", "new"]);
            Assert.Equal(0, code);
            string line = await server.Process.WaitForLineAsync(l => l.Contains("dropped its", StringComparison.Ordinal), stderr: true);
            Assert.Contains("dropped its 2 oldest message(s) whole (max age 00:00:01); the oldest id kept is 3", line, StringComparison.Ordinal);
            Assert.Equal(0, await server.StopAsync());
        }

        long[] kept = await StoredIdsAsync();
        Assert.Equal([3L], kept);
    }

    [Theory]
    [InlineData("--journal-max-bytes", "10", "tcptalk: --journal-max-bytes must be at least 1MiB (or 0 to keep everything), not 10")]
    [InlineData("--journal-max-bytes", "big", "tcptalk: --journal-max-bytes must be a byte count (500MB, 2GiB, 1048576), not 'big'")]
    [InlineData("--journal-max-age", "forever", "tcptalk: --journal-max-age must be an age (30d, 12h, 90m, 2w), not 'forever'")]
    public async Task AnUnusableRetentionIsAUsageErrorNamingTheFlag(string flag, string value, string expected)
    {
        var (code, _, stderr) = await Tcptalk.RunAsync(["serve", "--listen", "127.0.0.1:0", "--journal", Db, flag, value]);

        Assert.Equal(2, code);
        Assert.Equal([expected], stderr);
        Assert.False(File.Exists(Db));
    }
}
