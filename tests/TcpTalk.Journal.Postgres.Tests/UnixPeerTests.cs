using System.Net;
using System.Text;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Journal.Postgres.Tests;

/// <summary>A unix-socket connection's addresses are stored as text and read back as the server showed them.</summary>
[Collection(SharedClusterCollection.Name)]
public sealed class UnixPeerTests(SharedCluster shared)
{
    [PostgresFact]
    public async Task UnixPeerIsStoredAndReadBackByItsName()
    {
        string uri = shared.Cluster.Uri(Schemas.Fresh());
        await using (var journal = await PostgresMessageJournal.OpenAsync(uri, new PostgresJournalOptions { NodeName = "n" }))
        {
            var unix = new ConnectionInfo(3, "/run/tcptalk.sock", new UnixPeer(42, 1000, 1000));
            await journal.AppendAsync(TestBatches.Of(unix, TestBatches.MicrosecondTime, MessageText.Utf8, Encoding.UTF8.GetBytes("over unix")), default);
            await journal.AppendAsync(TestBatches.Of("over tcp"), default);
        }

        await using var reader = await PostgresJournalReader.OpenAsync(uri);
        var records = await reader.QueryAsync(JournalQuery.All).ToListAsync();
        var r = records[0];
        Assert.Equal("unix:pid=42,uid=1000", r.ClientAddressText);
        Assert.Equal("unix:/run/tcptalk.sock", r.LocalAddressText);
        Assert.Equal(IPAddress.None, r.ClientAddress);
        Assert.Equal("2024-05-01T12:30:15.123Z unix:pid=42,uid=1000 over unix", r.FormatLine());
        Assert.Null(records[1].ClientAddressText);

        var anyIPv4 = await reader.QueryAsync(new JournalQuery { From = System.Net.IPNetwork.Parse("0.0.0.0/0") }).ToListAsync();
        Assert.Equal([records[1].Id], anyIPv4.Select(x => x.Id)); // no network holds a unix peer
    }
}
