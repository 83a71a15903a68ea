using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using TcpTalk.FunctionalTests.Infrastructure;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// <c>tcptalk serve | consumer-that-stops-reading</c>: a real serve whose stdout is a pipe the test does not read.
/// With the journal on, the journal is the record: receiving, storing and acknowledging go on, and output lines past
/// the buffer are skipped with a warning. With <c>--no-journal</c> stdout is the only record: the server stops reading
/// (backpressure) and no line is lost once the pipe is read again.
/// </summary>
[Collection(JournalProofsCollection.Name)] // megabytes through one process: not beside timing-sensitive tests
public sealed partial class StalledOutputTests
{
    // Each line is ~2 KiB: 8,000 lines are 16 MB, twice what the output holds (4 MiB buffered, up to 4 MiB in the
    // write the pipe blocks, 64 KiB in the pipe).
    private const int MessageBytes = 2000;

    [Fact]
    public async Task WithAJournalAStdoutNobodyReadsNeverStallsReceivingStoringOrAcknowledging()
    {
        var folder = Directory.CreateTempSubdirectory("tcptalk-stalled-output-");
        try
        {
            string journal = Path.Combine(folder.FullName, "tcptalk.db");
            await using var server = await UnreadServe.StartAsync(["serve", "--listen", "127.0.0.1:0", "--ack", "--journal", journal], folder.FullName);
            var watch = Stopwatch.StartNew();

            // 4 clients, 20 rounds each of 100 messages in one write, then their 100 acks: each within 10 s.
            var acked = await Task.WhenAll(Enumerable.Range(0, 4).Select(c => SendAcknowledgedAsync(server.Endpoint, c, rounds: 20, perRound: 100)));
            Assert.Equal(8000, acked.Sum());
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"8,000 acknowledged messages took {watch.Elapsed}");

            string warning = await server.WaitForStderrAsync(l => l.Contains("Output is not keeping up: skipped", StringComparison.Ordinal));
            Assert.Matches("skipped [0-9]+ line\\(s\\) since the last such warning; the journal has every message \\(tcptalk messages shows them\\)", warning);

            Assert.Equal(0, await server.StopAsync());
            var rows = await JournalFile.ReadAsync(journal);
            Assert.Equal(8000, rows.Count);
            Assert.Equal(8000, rows.Select(r => r.Text).Distinct().Count());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task WithoutAJournalAStdoutNobodyReadsHoldsTheClientBackAndNoLineIsLost()
    {
        await using var server = await UnreadServe.StartAsync(["serve", "--listen", "127.0.0.1:0", "--no-journal"], workingDirectory: null);
        using var client = await RawClient.ConnectAsync(server.Endpoint);
        Assert.Equal("Welcome 127.0.0.1!", Encoding.ASCII.GetString(await client.ReadFrameAsync()));

        // 15,000 lines of ~2 KiB: 30 MB, more than the output buffer, the pipe and both socket buffers together.
        const int count = 15_000;
        var sending = Task.Run(async () =>
        {
            for (int i = 0; i < count; i += 100)
            {
                await client.SendAsync([.. Enumerable.Range(i, 100).SelectMany(n => Encoding.ASCII.GetBytes(Message(n, 2000) + "\0"))]);
            }
        });

        // Backpressure: while nobody reads stdout the server reads no more, so the client cannot finish sending.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(sending.IsCompleted, "the client sent 30 MB to a server whose only record is a stdout nobody reads");

        var reading = server.ReadStdoutLinesAsync();
        await sending.WaitAsync(TimeSpan.FromSeconds(60));
        client.HalfClose();
        Assert.Empty(await client.ReadToEndAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await server.StopAsync());

        var lines = await reading.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(count, lines.Count);
        for (int i = 0; i < count; i++)
        {
            Assert.EndsWith(" " + Message(i, 2000), lines[i], StringComparison.Ordinal);
        }
    }

    private static string Message(int n, int length)
    {
        string head = n.ToString("D6", System.Globalization.CultureInfo.InvariantCulture) + " ";
        return head + new string((char)('a' + n % 26), length - head.Length);
    }

    private static async Task<int> SendAcknowledgedAsync(IPEndPoint server, int client, int rounds, int perRound)
    {
        using var raw = await RawClient.ConnectAsync(server);
        Assert.StartsWith("Welcome", Encoding.ASCII.GetString(await raw.ReadFrameAsync()), StringComparison.Ordinal);
        int acked = 0;
        for (int round = 0; round < rounds; round++)
        {
            var batch = Enumerable.Range(0, perRound).SelectMany(i => Encoding.ASCII.GetBytes(Message((client * rounds + round) * perRound + i, MessageBytes) + "\0"));
            await raw.SendAsync([.. batch]);
            for (int i = 0; i < perRound; i++)
            {
                string frame = Encoding.ASCII.GetString(await raw.ReadFrameAsync(timeout: TimeSpan.FromSeconds(10)));
                Assert.StartsWith("ack ", frame, StringComparison.Ordinal);
                acked++;
            }
        }

        return acked;
    }

    /// <summary>
    /// <c>tcptalk serve</c> with stdout redirected to a pipe that nobody reads until <see cref="ReadStdoutLinesAsync"/>;
    /// stderr is read all along. Killed by its own PID if it outlives the test.
    /// </summary>
    private sealed partial class UnreadServe : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly List<string> _stderr = [];
        private readonly Task _stderrPump;

        private UnreadServe(Process process)
        {
            _process = process;
            _stderrPump = Task.Run(async () =>
            {
                while (await process.StandardError.ReadLineAsync() is { } line)
                {
                    lock (_stderr)
                    {
                        _stderr.Add(line);
                    }
                }
            });
        }

        public IPEndPoint Endpoint { get; private set; } = null!;

        public static async Task<UnreadServe> StartAsync(IEnumerable<string> arguments, string? workingDirectory)
        {
            var info = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory ?? "",
                StandardOutputEncoding = Encoding.UTF8,
            };
            info.ArgumentList.Add(Tcptalk.Dll);
            foreach (string argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            var serve = new UnreadServe(Process.Start(info) ?? throw new InvalidOperationException("could not start tcptalk"));
            try
            {
                string line = await serve.WaitForStderrAsync(l => l.Contains("Listening on", StringComparison.Ordinal));
                serve.Endpoint = new IPEndPoint(IPAddress.Loopback, int.Parse(PortPattern().Match(line).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
                return serve;
            }
            catch
            {
                await serve.DisposeAsync();
                throw;
            }
        }

        public async Task<string> WaitForStderrAsync(Func<string, bool> match)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (true)
            {
                lock (_stderr)
                {
                    if (_stderr.FirstOrDefault(match) is { } line)
                    {
                        return line;
                    }
                }

                if (DateTime.UtcNow > deadline)
                {
                    lock (_stderr)
                    {
                        throw new TimeoutException($"no matching line on stderr in time: [{string.Join(" | ", _stderr)}]");
                    }
                }

                await Task.Delay(20);
            }
        }

        /// <summary>Starts reading stdout: completes with every line once the server closes it.</summary>
        public Task<List<string>> ReadStdoutLinesAsync() => Task.Run(async () =>
        {
            var lines = new List<string>();
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                lines.Add(line);
            }

            return lines;
        });

        /// <summary>SIGTERM, then the exit code (within 20 s).</summary>
        public async Task<int> StopAsync()
        {
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                lock (_stderr)
                {
                    throw new TimeoutException($"tcptalk serve did not exit within 20 s of SIGTERM: [{string.Join(" | ", _stderr)}]");
                }
            }

            await _stderrPump.WaitAsync(TimeSpan.FromSeconds(10));
            return _process.ExitCode;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10));
            }

            _process.Dispose();
        }

        [GeneratedRegex(@"Listening on \S*:(\d+)")]
        private static partial Regex PortPattern();
    }
}
