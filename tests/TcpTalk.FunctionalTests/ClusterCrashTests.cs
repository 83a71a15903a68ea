using System.Globalization;
using Npgsql;
using TcpTalk.FunctionalTests.Infrastructure;
using TcpTalk.Journal.Postgres.Tests;
using Xunit.Abstractions;

namespace TcpTalk.FunctionalTests;

/// <summary>A fact that needs PostgreSQL's binaries and haproxy; skipped, with the reason, where one is missing.</summary>
internal sealed class ClusterFactAttribute : FactAttribute
{
    public ClusterFactAttribute()
    {
        if ((PostgresCluster.MissingReason ?? HaproxyFixture.Missing) is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>
/// "Nothing acknowledged is lost" for a cluster: clients send without pause through HAProxy into three
/// <c>serve --ack --journal postgres://primary,standby</c> nodes while two nodes are SIGKILLed (and started again)
/// and the PostgreSQL primary is stopped at once and its synchronous standby promoted. Afterwards every acknowledged
/// message is on the promoted standby under the id it was acknowledged with. The short version of bench/cluster-crash.sh.
/// </summary>
[Collection(JournalProofsCollection.Name)]
public sealed class ClusterCrashTests(ITestOutputHelper output)
{
    private const int Nodes = 3;
    private const int Clients = 4;
    private const int Window = 8;
    private const int Seed = 20261202;
    private static readonly TimeSpan s_ackWait = TimeSpan.FromSeconds(30);

    [ClusterFact]
    public async Task EveryAcknowledgedMessageSurvivesNodeKillsAndAFailover()
    {
        await using var cluster = await PostgresCluster.StartAsync(standby: true);
        string uri = cluster.Uri("cluster_crash");
        bool proxy = await ServeTakesTrustedProxyAsync();
        int[] ports = [.. Enumerable.Range(0, Nodes).Select(_ => FreePort.Get())];
        var nodes = new ServeProcess?[Nodes];
        var random = new Random(Seed);
        var ledger = new AckLedger();
        using var stop = new CancellationTokenSource();
        Task[] clients = [];
        try
        {
            await Task.WhenAll(Enumerable.Range(0, Nodes).Select(async n => nodes[n] = await StartNodeAsync(n, ports[n], uri, proxy)));
            await using var haproxy = await StartHaproxyAsync(ports, proxy);
            clients = [.. Enumerable.Range(1, Clients).Select(i => new LoadClient(i, haproxy.Frontend.Port, ledger, Window).RunAsync(stop.Token))];
            var faults = new List<string>();

            for (int kill = 1; kill <= 2; kill++)
            {
                await ledger.WaitForAcksAsync(ledger.AckCount + 20, s_ackWait);
                int n = random.Next(Nodes);
                nodes[n]!.Process.Signal("KILL");
                Assert.Equal(137, await nodes[n]!.Process.WaitForExitAsync(TimeSpan.FromSeconds(10)));
                await nodes[n]!.DisposeAsync();
                nodes[n] = null;
                faults.Add($"node{n + 1} killed at ack {ledger.AckCount}");
                await Task.Delay(random.Next(200, 800));
                nodes[n] = await StartNodeAsync(n, ports[n], uri, proxy);
            }

            await ledger.WaitForAcksAsync(ledger.AckCount + 20, s_ackWait);
            int beforeFailover = ledger.AckCount;
            await cluster.StopPrimaryAsync();
            await cluster.PromoteStandbyAsync();
            faults.Add($"primary stopped and standby promoted at ack {beforeFailover}");
            await ledger.WaitForAcksAsync(ledger.AckCount + 50, s_ackWait); // acknowledged again: by the promoted standby
            output.WriteLine(string.Join("; ", faults));
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(10));
            foreach (var node in nodes)
            {
                if (node is not null)
                {
                    await node.DisposeAsync();
                }
            }
        }

        var stored = await ReadStoredAsync(cluster.ConnectionString(cluster.StandbyPort));
        var acked = ledger.Acked;
        var lost = acked.Where(a => !stored.TryGetValue(a.Value, out string? text) || text != a.Key).Select(a => $"{a.Key} (ack {a.Value})").ToList();
        var byText = stored.GroupBy(s => s.Value).ToList();
        int duplicates = byText.Sum(g => g.Count() - 1);
        int unacked = byText.Count(g => !acked.ContainsKey(g.Key));
        bool gapless = stored.Keys.Order().SequenceEqual(Enumerable.Range(1, stored.Count).Select(i => (long)i));
        output.WriteLine($"PROXY v2 {proxy}, seed {Seed}, clients {Clients}: sent {ledger.SentCount}, acked {acked.Count}, stored {stored.Count}, " +
                         $"lost {lost.Count}, duplicates {duplicates}, stored-but-unacked {unacked}, error lines {ledger.Errors.Count}, gapless {gapless}");

        Assert.Empty(ledger.Problems);
        Assert.Empty(lost);
        Assert.Equal(0, duplicates); // the clients never resend, so nothing may be stored twice
        Assert.True(gapless, "the ids of the table are not 1..N");
    }

    private static Task<ServeProcess> StartNodeAsync(int n, int port, string uri, bool proxy) =>
        Tcptalk.ServeAsync([
            "--listen", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", "--ack", "--journal", uri,
            "--node-name", $"node{(n + 1).ToString(CultureInfo.InvariantCulture)}", .. proxy ? (string[])["--trusted-proxy", "127.0.0.0/8"] : []]);

    /// <summary>Whether this tcptalk takes <c>--trusted-proxy</c> (then HAProxy sends PROXY v2, as deploy/cluster does).</summary>
    private static async Task<bool> ServeTakesTrustedProxyAsync()
    {
        var (_, stdout, _) = await Tcptalk.RunAsync(["serve", "--help"]);
        return stdout.Any(l => l.Contains("--trusted-proxy", StringComparison.Ordinal));
    }

    /// <summary>HAProxy as deploy/cluster/haproxy.cfg configures it, in front of the nodes' ports.</summary>
    private static Task<BalancerProcess> StartHaproxyAsync(int[] ports, bool proxy) =>
        BalancerProcess.StartAsync("haproxy", Executables.Find("haproxy")!, "haproxy.cfg",
            (directory, port) => $"""
                global
                    pidfile {directory}/haproxy.pid
                    log stderr format raw local0 info
                    maxconn 1000
                defaults
                    mode tcp
                    log global
                    timeout connect 2s
                    timeout client 1m
                    timeout server 1m
                    retries 2
                    option redispatch
                frontend tcptalk
                    bind 127.0.0.1:{port}
                    default_backend nodes
                backend nodes
                    balance leastconn
                    default-server {(proxy ? "send-proxy-v2 " : "")}check inter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
                """ + string.Concat(ports.Select((p, i) => $"\n    server node{i + 1} 127.0.0.1:{p}")),
            (config, _) => ["-db", "-f", config]);

    private static async Task<Dictionary<long, string>> ReadStoredAsync(string connectionString)
    {
        var stored = new Dictionary<long, string>();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, convert_from(raw, 'UTF8') FROM cluster_crash.messages ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            stored[reader.GetInt64(0)] = reader.GetString(1);
        }

        return stored;
    }
}
