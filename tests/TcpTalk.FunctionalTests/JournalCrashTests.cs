using TcpTalk.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace TcpTalk.FunctionalTests;

/// <summary>
/// "Nothing received is ever lost", under SIGKILL: clients send without pause to <c>serve --journal X --ack</c> while
/// the server is killed at random moments and restarted on the same journal and port; afterwards every acknowledged
/// message is in the journal exactly once, under the id it was acknowledged with. The short version of
/// bench/crash.sh (hundreds of cycles).
/// </summary>
[Collection(JournalProofsCollection.Name)]
public sealed class JournalCrashTests(ITestOutputHelper output) : IDisposable
{
    private const int Cycles = 5;
    private const int Clients = 3;
    private const int Window = 16;   // unacknowledged messages a client keeps in flight
    private const int Seed = 20261125;

    private readonly string _dir = Directory.CreateTempSubdirectory("tcptalk-crash-").FullName;

    private string Db => Path.Combine(_dir, "crash.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task EveryAcknowledgedMessageSurvivesRandomKills()
    {
        int port = FreePort.Get();
        var random = new Random(Seed);
        var ledger = new AckLedger();
        using var stop = new CancellationTokenSource();
        ServeProcess? server = await StartAsync(port);
        var clients = Enumerable.Range(1, Clients).Select(i => new LoadClient(i, port, ledger, Window).RunAsync(stop.Token)).ToArray();
        try
        {
            for (int cycle = 1; cycle <= Cycles; cycle++)
            {
                // Kill while messages flow: once this life of the server has acknowledged something, at a random moment.
                await ledger.WaitForAcksAsync(ledger.AckCount + 1, TimeSpan.FromSeconds(20));
                await Task.Delay(random.Next(0, 700));
                server!.Process.Signal("KILL");
                Assert.Equal(137, await server.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)));
                await server.DisposeAsync();
                server = cycle < Cycles ? await StartAsync(port) : null;
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(10));
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }

        var rows = await JournalFile.ReadAsync(Db);
        string integrity = JournalFile.IntegrityCheck(Db);
        var textById = rows.ToDictionary(r => r.Id, r => r.Text);
        var idsByText = rows.GroupBy(r => r.Text).ToDictionary(g => g.Key, g => g.Select(r => r.Id).ToList());
        var acked = ledger.Acked;
        var lost = acked.Where(a => !textById.TryGetValue(a.Value, out string? text) || text != a.Key).Select(a => $"{a.Key} (ack {a.Value})").ToList();
        var duplicates = idsByText.Where(g => g.Value.Count > 1).Select(g => $"{g.Key} (ids {string.Join(",", g.Value)})").ToList();
        var neverSent = idsByText.Keys.Where(t => !ledger.WasSent(t)).ToList();
        int unacked = idsByText.Keys.Count(t => !acked.ContainsKey(t));
        output.WriteLine($"cycles {Cycles}, seed {Seed}, clients {Clients}: sent {ledger.SentCount}, acked {acked.Count}, stored {rows.Count}, " +
                         $"acked-but-lost {lost.Count}, duplicates {duplicates.Count}, stored-but-unacked {unacked}, integrity_check {integrity}");

        Assert.Empty(ledger.Problems);
        Assert.Empty(ledger.Errors);
        Assert.True(acked.Count >= Cycles, $"only {acked.Count} acknowledgements: the clients hardly ran");
        Assert.Empty(lost);
        Assert.Empty(duplicates);
        Assert.Empty(neverSent);
        Assert.Equal("ok", integrity);
    }

    private Task<ServeProcess> StartAsync(int port) =>
        Tcptalk.ServeAsync("--listen", $"127.0.0.1:{port}", "--journal", Db, "--ack");
}
