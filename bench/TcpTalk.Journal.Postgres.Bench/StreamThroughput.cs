using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using TcpTalk.Journal.Postgres.Tests;

/// <summary>
/// Whole nodes, end to end: <c>tcptalk serve --journal postgres://...</c> processes loaded by
/// <c>tcptalk bench --mode stream</c> (one bench process per node, the connections split between them). The rate is
/// what PostgreSQL committed: the rows in the table over the time from the load's start until the last commit.
/// </summary>
internal static class StreamThroughput
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>Runs one round into <paramref name="schema"/>; returns the rows stored and the committed rows per second.</summary>
    public static async Task<(long Stored, double Rate)> MeasureAsync(PostgresCluster cluster, string tcptalkDll, string schema,
        int nodes, int connections, double seconds, int size)
    {
        var servers = new List<Process>();
        var loads = new List<Process>();
        try
        {
            var ports = new int[nodes];
            for (int n = 0; n < nodes; n++)
            {
                ports[n] = FreePort();
                // Messages printed on stdout are not the subject here: /dev/null (a pipe would cost this process CPU).
                servers.Add(Start("sh", "-c", $"exec dotnet '{tcptalkDll}' serve --listen 127.0.0.1:{ports[n].ToString(s_inv)} " +
                    $"--journal '{cluster.Uri(schema)}' --node-name node{n.ToString(s_inv)} --idle-timeout 0 >/dev/null 2>&1"));
            }

            foreach (int port in ports)
            {
                await WaitListeningAsync(port);
            }

            await WaitForSchemaAsync(cluster, schema);
            var clock = Stopwatch.StartNew();
            foreach (int port in ports)
            {
                loads.Add(Start("dotnet", tcptalkDll, "bench", $"127.0.0.1:{port.ToString(s_inv)}", "--mode", "stream",
                    "-c", Math.Max(1, connections / nodes).ToString(s_inv), "--duration", $"{seconds.ToString(s_inv)}s",
                    "--message-bytes", size.ToString(s_inv), "--json"));
            }

            foreach (var load in loads)
            {
                await load.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(seconds + 60));
            }

            // The nodes hold what they received but have not committed yet (their bounded queues): the round ends
            // once the counter stood still for 0.5 s after the load, and the rate counts that drain too.
            long last = await LastIdAsync(cluster, schema);
            var lastChange = clock.Elapsed;
            while (clock.Elapsed - lastChange < TimeSpan.FromSeconds(0.5))
            {
                await Task.Delay(50);
                long now = await LastIdAsync(cluster, schema);
                if (now != last)
                {
                    (last, lastChange) = (now, clock.Elapsed);
                }
            }

            foreach (var server in servers)
            {
                Signal(server, "TERM");
            }

            foreach (var server in servers)
            {
                await server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }

            return (last, last / lastChange.TotalSeconds);
        }
        finally
        {
            foreach (var p in loads.Concat(servers).Where(p => !p.HasExited))
            {
                p.Kill(entireProcessTree: true); // our own children, by PID
            }
        }
    }

    private static Process Start(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, process.Id.ToString(s_inv)]);
        kill!.WaitForExit();
    }

    private static async Task<long> LastIdAsync(PostgresCluster cluster, string schema) =>
        (long)(await cluster.ScalarAsync(cluster.PrimaryPort, $"SELECT last_id FROM {schema}.id_counter"))!;

    /// <summary>serve listens before it creates the schema: wait until the counter table exists, at most 60 s.</summary>
    private static async Task WaitForSchemaAsync(PostgresCluster cluster, string schema)
    {
        var deadline = Stopwatch.StartNew();
        while (await cluster.ScalarAsync(cluster.PrimaryPort, $"SELECT to_regclass('{schema}.id_counter') IS NOT NULL") is not true)
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"serve did not create {schema}.id_counter within 60 s");
            }

            await Task.Delay(100);
        }
    }

    private static async Task WaitListeningAsync(int port)
    {
        string local = $"0100007F:{port:X4}";
        var deadline = Stopwatch.StartNew();
        while (!File.ReadLines("/proc/net/tcp").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                   .Any(f => f.Length > 3 && f[1] == local && f[3] == "0A"))
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"serve did not listen on 127.0.0.1:{port} within 60 s");
            }

            await Task.Delay(50);
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
