// The PostgreSQL journal's append rate beside a raw binary COPY of the same rows into the same database, in the same
// run: bench/pg-journal.sh runs it with and without a synchronous standby. Prints figures; asserts nothing.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using TcpTalk.Journal.Postgres;
using TcpTalk.Journal.Postgres.Tests;
using TcpTalk.Messages;

var inv = CultureInfo.InvariantCulture;
bool standby = args.Contains("--standby");
double seconds = Arg("--seconds", 3);
int rounds = (int)Arg("--rounds", 3);
int appenders = (int)Arg("--appenders", 64);
int size = (int)Arg("--size", 64);
int nodes = (int)Arg("--nodes", 1); // journal instances (nodes) sharing the appenders and the id counter
int perAppend = (int)Arg("--batch", 100); // messages per append: one read of a streaming client
// --serve DLL: whole nodes instead (tcptalk serve processes loaded by tcptalk bench --mode stream, --appenders connections)
string? serveDll = Array.IndexOf(args, "--serve") is int s && s >= 0 && s + 1 < args.Length ? args[s + 1] : null;

await using var cluster = await PostgresCluster.StartAsync(standby);
Console.WriteLine($"PostgreSQL cluster: primary :{cluster.PrimaryPort}{(standby ? $", synchronous standby :{cluster.StandbyPort}" : ", no standby")}; " +
                  (serveDll is null ? $"{nodes} journal instance(s) in this process, {appenders} appenders x {perAppend} message(s) of {size} bytes per append"
                      : $"{nodes} tcptalk serve node(s), tcptalk bench --mode stream with {appenders} connections in all, messages of {size} bytes") +
                  $", {seconds} s a round, {rounds} rounds; load {File.ReadAllText("/proc/loadavg").Trim()}");
var payload = Encoding.ASCII.GetBytes(new string('x', size));
var journalRates = new List<double>();
var copyRates = new List<double>();
var narrowRates = new List<double>();
for (int round = 1; round <= rounds; round++)
{
    string schema = "bench_" + round.ToString(inv);
    var (stored, journalRate) = serveDll is null ? await JournalRoundAsync(schema)
        : await StreamThroughput.MeasureAsync(cluster, serveDll, schema, nodes, appenders, seconds, size);
    double copyRate = await RawCopyAsync(schema, stored, narrow: false);
    double narrowRate = serveDll is null ? await RawCopyAsync(schema, stored, narrow: true) : double.NaN; // the layout question is settled
    journalRates.Add(journalRate);
    copyRates.Add(copyRate);
    narrowRates.Add(narrowRate);
    var bytes = (long)(await cluster.ScalarAsync(cluster.PrimaryPort, $"SELECT pg_relation_size('{schema}.messages')"))!;
    var narrowBytes = serveDll is null ? (long)(await cluster.ScalarAsync(cluster.PrimaryPort, $"SELECT pg_relation_size('{schema}.narrow')"))! : 0L;
    Console.WriteLine(string.Create(inv, $"round {round}: journal {journalRate:F0} msg/s ({stored} stored), raw COPY {copyRate:F0} rows/s, raw COPY narrow rows {narrowRate:F0} rows/s; heap {bytes / (double)stored:F0} B/row wide, {narrowBytes / (double)stored:F0} B/row narrow"));
}

double Median(List<double> xs) => xs.Order().ElementAt(xs.Count / 2);
Console.WriteLine(string.Create(inv, $"median: journal {Median(journalRates):F0} msg/s, raw COPY {Median(copyRates):F0} rows/s => {Median(journalRates) / Median(copyRates):F2}x; narrow-row COPY {Median(narrowRates):F0} rows/s ({Median(narrowRates) / Median(copyRates):F2}x of wide); load {File.ReadAllText("/proc/loadavg").Trim()}"));

async Task<(long Stored, double Rate)> JournalRoundAsync(string schema)
{
    var journals = new PostgresMessageJournal[nodes];
    for (int n = 0; n < nodes; n++)
    {
        journals[n] = await PostgresMessageJournal.OpenAsync(cluster.Uri(schema), new PostgresJournalOptions { NodeName = "bench" + n.ToString(inv) });
    }

    long count = 0;
    var stop = Stopwatch.StartNew();
    var duration = TimeSpan.FromSeconds(seconds);
    async Task AppendLoopAsync(int id)
    {
        var connection = new ConnectionInfo(id, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Loopback, 40000 + id));
        var batch = new MessageBatch(connection, DateTimeOffset.UtcNow, Encoding.UTF8, payload, Enumerable.Repeat((0, payload.Length), perAppend).ToArray());
        var journal = journals[id % nodes];
        while (stop.Elapsed < duration)
        {
            await journal.AppendAsync(batch, default);
            Interlocked.Add(ref count, perAppend);
        }
    }

    await Task.WhenAll(Enumerable.Range(1, appenders).Select(i => Task.Run(() => AppendLoopAsync(i))));
    double rate = count / stop.Elapsed.TotalSeconds;
    foreach (var journal in journals)
    {
        await journal.DisposeAsync();
    }

    return (count, rate);
}

// The same rows (same columns, same values) by one connection, 10,000 rows per COPY and transaction: what PostgreSQL
// takes at best from one client. 'narrow' moves the connection's columns to a per-connection table (one reference).
async Task<double> RawCopyAsync(string schema, long rows, bool narrow)
{
    string table = narrow ? "narrow" : "raw_copy";
    string create = narrow
        ? $"CREATE TABLE {schema}.narrow (id bigint PRIMARY KEY, node_name text NOT NULL, received_us bigint NOT NULL, connection_ref bigint NOT NULL, unique_id bytea, raw bytea NOT NULL)"
        : $"CREATE TABLE {schema}.raw_copy (LIKE {schema}.messages INCLUDING ALL)";
    await cluster.ExecuteAsync(cluster.PrimaryPort, create);
    var builder = new NpgsqlDataSourceBuilder(cluster.ConnectionString(cluster.PrimaryPort));
    await using var source = builder.Build();
    await using var connection = await source.OpenConnectionAsync();
    string columns = narrow ? "id, node_name, received_us, connection_ref, unique_id, raw"
        : "id, node_name, received_us, local_address, local_port, client_address, client_port, connection_id, code_page, unique_id, raw";
    var stop = Stopwatch.StartNew();
    long received = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
    for (long first = 1; first <= rows; first += 10_000)
    {
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var copy = await connection.BeginBinaryImportAsync($"COPY {schema}.{table} ({columns}) FROM STDIN (FORMAT BINARY)"))
        {
            for (long id = first; id < Math.Min(rows + 1, first + 10_000); id++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(id, NpgsqlDbType.Bigint);
                await copy.WriteAsync("bench", NpgsqlDbType.Text);
                await copy.WriteAsync(received, NpgsqlDbType.Bigint);
                if (narrow)
                {
                    await copy.WriteAsync(id % appenders, NpgsqlDbType.Bigint);
                }
                else
                {
                    await copy.WriteAsync("127.0.0.1", NpgsqlDbType.Text);
                    await copy.WriteAsync(12345, NpgsqlDbType.Integer);
                    await copy.WriteAsync("127.0.0.1", NpgsqlDbType.Text);
                    await copy.WriteAsync(40000 + (int)(id % appenders), NpgsqlDbType.Integer);
                    await copy.WriteAsync(id % appenders, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(65001, NpgsqlDbType.Integer);
                }

                await copy.WriteNullAsync();
                await copy.WriteAsync(payload, NpgsqlDbType.Bytea);
            }

            await copy.CompleteAsync();
        }

        await transaction.CommitAsync();
    }

    return rows / stop.Elapsed.TotalSeconds;
}

double Arg(string name, double fallback)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? double.Parse(args[i + 1], inv) : fallback;
}
