using TcpTalk.FunctionalTests.Infrastructure;
using TcpTalk.Journal.Postgres.Tests;

namespace TcpTalk.FunctionalTests;

/// <summary>A fact that needs PostgreSQL's binaries; skipped, with the reason, where they are missing.</summary>
internal sealed class PostgresCliFactAttribute : FactAttribute
{
    public PostgresCliFactAttribute()
    {
        if (PostgresCluster.MissingReason is { } reason)
        {
            Skip = reason;
        }
    }
}

/// <summary>The PostgreSQL journal through the real CLI: serve --journal postgres://... stores, messages reads it back.</summary>
public sealed class PostgresJournalCliTests
{
    [PostgresCliFact]
    public async Task MessagesPrintsWhatAnAckingServeStoredInPostgres()
    {
        await using var cluster = await PostgresCluster.StartAsync(standby: false);
        string uri = cluster.Uri("cli_one");
        await using (var server = await Tcptalk.ServeAsync("--ack", "--journal", uri, "--node-name", "node-a"))
        {
            var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--ack", "-v", $"127.0.0.1:{server.Port}", "first", "tab\there", "третий"]);
            Assert.True(code == 0, string.Join(" | ", stderr) + " || server: " + string.Join(" | ", server.Process.Stderr));
            Assert.Contains("acknowledged as ids 1 2 3", stderr);
            await server.Process.WaitForLineAsync(l => l.EndsWith(" третий", StringComparison.Ordinal));
            Assert.Equal(0, await server.StopAsync());

            var (listed, stdout, errors) = await Tcptalk.RunAsync(["messages", "--journal", uri]);
            Assert.True(listed == 0, string.Join(" | ", errors));
            Assert.Equal(3, stdout.Count);
            Assert.Equal(server.Process.Stdout, stdout); // exactly the lines serve printed
            Assert.EndsWith(@" tab\there", stdout[1], StringComparison.Ordinal);

            (listed, stdout, errors) = await Tcptalk.RunAsync(["messages", "--journal", uri, "--contains", "irs", "--json"]);
            Assert.True(listed == 0, string.Join(" | ", errors));
            var json = Assert.Single(stdout);
            Assert.StartsWith("{\"id\":1,", json, StringComparison.Ordinal);
            Assert.Contains("\"text\":\"first\"", json, StringComparison.Ordinal);

            (_, stdout, _) = await Tcptalk.RunAsync(["messages", "--journal", uri, "--limit", "1"]);
            Assert.Equal([server.Process.Stdout[2]], stdout); // the newest, as for the SQLite journal
        }
    }

    [PostgresCliFact]
    public async Task TwoNodesWriteIntoOneDatabaseWithUniqueIdsAndTheirNames()
    {
        await using var cluster = await PostgresCluster.StartAsync(standby: false);
        string uri = cluster.Uri("cli_two");
        await using var a = await Tcptalk.ServeAsync("--ack", "--journal", uri, "--node-name", "node-a");
        await using var b = await Tcptalk.ServeAsync("--ack", "--journal", uri, "--node-name", "node-b");

        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--ack", "-v", $"127.0.0.1:{a.Port}", "from a"]);
        Assert.True(code == 0, string.Join(" | ", stderr));
        Assert.Contains("acknowledged as id 1", stderr);
        (code, _, stderr) = await Tcptalk.RunAsync(["send", "--ack", "-v", $"127.0.0.1:{b.Port}", "from b"]);
        Assert.True(code == 0, string.Join(" | ", stderr));
        Assert.Contains("acknowledged as id 2", stderr);

        string lineA = await a.Process.WaitForLineAsync(l => l.EndsWith(" from a", StringComparison.Ordinal));
        string lineB = await b.Process.WaitForLineAsync(l => l.EndsWith(" from b", StringComparison.Ordinal));
        var (listed, stdout, errors) = await Tcptalk.RunAsync(["messages", "--journal", uri]);
        Assert.True(listed == 0, string.Join(" | ", errors));
        Assert.Equal([lineA, lineB], stdout);

        var nodes = await cluster.ScalarAsync(cluster.PrimaryPort, "SELECT string_agg(node_name, ',' ORDER BY id) FROM cli_two.messages");
        Assert.Equal("node-a,node-b", nodes);
    }

    [PostgresCliFact]
    public async Task FollowShowsWhatAnyNodeStoresAndExits130OnTerm()
    {
        await using var cluster = await PostgresCluster.StartAsync(standby: false);
        string uri = cluster.Uri("cli_follow");
        await using var server = await Tcptalk.ServeAsync("--ack", "--journal", uri, "--node-name", "node-a");
        // serve listens before it opens (and creates) the journal: an acknowledged message means the schema exists.
        var (code, _, stderr) = await Tcptalk.RunAsync(["send", "--ack", $"127.0.0.1:{server.Port}", "skipped"]);
        Assert.True(code == 0, string.Join(" | ", stderr));
        await using var follow = Tcptalk.Start(["messages", "--journal", uri, "--follow", "--contains", "live"]);
        await Task.Delay(500);
        (code, _, stderr) = await Tcptalk.RunAsync(["send", "--ack", $"127.0.0.1:{server.Port}", "skipped too", "live one"]);
        Assert.True(code == 0, string.Join(" | ", stderr));

        string line = await follow.WaitForLineAsync(l => l.EndsWith(" live one", StringComparison.Ordinal));
        Assert.Equal(await server.Process.WaitForLineAsync(l => l.EndsWith(" live one", StringComparison.Ordinal)), line);
        follow.Signal("TERM");
        Assert.Equal(130, await follow.WaitForExitAsync());
        Assert.Equal([line], follow.Stdout); // the filter applies to what follows, too
    }

    [PostgresCliFact]
    public async Task MessagesOnAnUnreachableDatabaseExits11WithOneLine()
    {
        int port = PortOfNobody();
        var (code, stdout, stderr) = await Tcptalk.RunAsync(["messages", "--journal", $"postgres://nobody@127.0.0.1:{port}/none?connect_timeout=2"]);
        Assert.Equal(11, code);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr);
        Assert.Equal($"tcptalk: journal postgres://nobody@127.0.0.1:{port}/none?schema=tcptalk cannot be read: cannot connect to 127.0.0.1:{port} (connection refused)", line);
    }

    [PostgresCliFact]
    public async Task AnUnreachableDatabaseIsNamedHostByHostWithEachReason()
    {
        int refused = PortOfNobody();
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0); // accepts, never answers
        silent.Start();
        int mute = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        string uri = $"postgres://nobody@127.0.0.1:{mute},127.0.0.1:{refused}/none?connect_timeout=1";

        var (code, _, stderr) = await Tcptalk.RunAsync(["messages", "--journal", uri]);
        Assert.Equal(11, code);
        Assert.Equal($"tcptalk: journal postgres://nobody@127.0.0.1:{mute},127.0.0.1:{refused}/none?schema=tcptalk cannot be read: " +
                     $"cannot connect to 127.0.0.1:{mute} (timed out), 127.0.0.1:{refused} (connection refused)", Assert.Single(stderr));

        await using var server = Tcptalk.Start(["serve", "--listen", "127.0.0.1:0", "--ack", "--journal", uri]);
        Assert.Equal(11, await server.WaitForExitAsync());
        Assert.EndsWith($"cannot be opened: cannot connect to 127.0.0.1:{mute} (timed out), 127.0.0.1:{refused} (connection refused)",
            Assert.Single(server.Stderr, l => l.StartsWith("tcptalk: ", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [PostgresCliFact]
    public async Task AWrongPasswordIsReportedAsAuthenticationFailedWithTheHost()
    {
        await using var cluster = await PostgresCluster.StartAsync(standby: false);
        string uri = $"postgres://postgres:wrong@127.0.0.1:{cluster.PrimaryPort}/postgres";

        var (code, _, stderr) = await Tcptalk.RunAsync(["messages", "--journal", uri]);
        Assert.Equal(11, code);
        Assert.Equal($"tcptalk: journal postgres://postgres@127.0.0.1:{cluster.PrimaryPort}/postgres?schema=tcptalk cannot be read: cannot connect to " +
                     $"127.0.0.1:{cluster.PrimaryPort} (authentication failed: password authentication failed for user \"postgres\" (SQLSTATE 28P01))", Assert.Single(stderr));
    }

    private static int PortOfNobody()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port; // closed when this returns: nothing listens there
    }
}
