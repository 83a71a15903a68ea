using System.Net;
using System.Text;
using TcpTalk.Journal;
using TcpTalk.Messages;
using TcpTalk.Protocol;
using TcpTalk.TestSupport;

namespace TcpTalk.Journal.Tests;

/// <summary>A unix-socket connection's addresses are stored as text and read back as the server showed them.</summary>
public class UnixPeerTests
{
    [Fact]
    public async Task UnixPeerIsStoredAndReadBackByItsName()
    {
        using var temp = new TempJournal();
        await using (var journal = SqliteMessageJournal.Open(temp.Path))
        {
            var unix = new ConnectionInfo(7, "/run/tcptalk.sock", new UnixPeer(42, 1000, 1000));
            await journal.AppendAsync(TestBatches.Of(unix, TestBatches.Time, MessageText.Utf8, Encoding.UTF8.GetBytes("over unix")), CancellationToken.None);
            await journal.AppendAsync(TestBatches.Of("over tcp"), CancellationToken.None);
        }

        var records = await Read.AllAsync(temp.Path);
        var record = records[0];
        Assert.Equal("unix:pid=42,uid=1000", record.ClientAddressText);
        Assert.Equal("unix:/run/tcptalk.sock", record.LocalAddressText);
        Assert.Equal(IPAddress.None, record.ClientAddress);
        Assert.Equal("unix:pid=42,uid=1000", record.Client);
        Assert.Equal("2024-05-01T12:30:15.123Z unix:pid=42,uid=1000 over unix", record.FormatLine());
        Assert.Null(records[1].ClientAddressText);
        Assert.Equal("127.0.0.1:5000", records[1].Client);

        var fromLoopback = await Read.AllAsync(temp.Path, new JournalQuery { From = System.Net.IPNetwork.Parse("0.0.0.0/0") });
        Assert.Equal([records[1].Id], fromLoopback.Select(r => r.Id)); // a network filter never matches a unix peer
    }
}
