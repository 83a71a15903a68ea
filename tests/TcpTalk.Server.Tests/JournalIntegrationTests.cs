using System.Net;
using System.Net.Sockets;
using System.Text;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Server.Tests;

/// <summary>How the server uses an <see cref="IMessageJournal"/>: store first, then print, then acknowledge.</summary>
public class JournalIntegrationTests
{
    private static async Task<(TalkServer Server, Socket Client)> StartAsync(FakeJournal journal, IMessageSink sink, bool ack = true)
    {
        var options = new TalkServerOptions { Journal = journal, Acknowledge = ack };
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        var server = new TalkServer(options, sink);
        await server.StartAsync();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(server.BoundEndpoints[0]);
        return (server, client);
    }

    [Fact]
    public async Task StoredMessagesAreAcknowledgedWithTheirJournalIds()
    {
        var journal = new FakeJournal();
        var printed = new List<long>();
        var (server, client) = await StartAsync(journal, MessageSinks.FromDelegate(m => { lock (printed) { printed.Add(m.JournalId); } }));
        await using (server)
        using (client)
        {
            await client.SendAsync("a\0b\0"u8.ToArray());
            await Task.Delay(50);
            await client.SendAsync("c\0"u8.ToArray());
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal("Welcome 127.0.0.1!\0ack 100\0ack 101\0ack 102\0", await Loopback.ReadAsync(client));
        }

        Assert.Equal(["a", "b", "c"], journal.Stored);
        Assert.Equal([100L, 101L, 102L], printed);
    }

    [Fact]
    public async Task WithoutAcknowledgeNothingExtraIsSent()
    {
        var (server, client) = await StartAsync(new FakeJournal(), MessageSinks.None, ack: false);
        await using (server)
        using (client)
        {
            await client.SendAsync("a\0"u8.ToArray());
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(client));
        }
    }

    [Fact]
    public async Task AJournalFailureIsNeverAcknowledgedNorPrintedAndClosesWithAnError()
    {
        var journal = new FakeJournal { BeforeCommit = _ => throw new JournalUnavailableException("disk full") };
        var printed = new List<string>();
        var (server, client) = await StartAsync(journal, MessageSinks.FromDelegate(m => printed.Add(m.Text)));
        await using (server)
        using (client)
        {
            await client.SendAsync("lost?\0"u8.ToArray());
            Assert.Equal("Welcome 127.0.0.1!\0error: messages not stored: disk full\0", await Loopback.ReadAsync(client));
        }

        Assert.Empty(printed);
    }

    [Fact]
    public async Task ASlowJournalHoldsBackPrintingAndAcknowledging()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var journal = new FakeJournal { BeforeCommit = _ => release.Task };
        var printed = new List<string>();
        var (server, client) = await StartAsync(journal, MessageSinks.FromDelegate(m => { lock (printed) { printed.Add(m.Text); } }));
        await using (server)
        using (client)
        {
            await client.SendAsync("wait\0"u8.ToArray());
            await Task.Delay(200);
            lock (printed)
            {
                Assert.Empty(printed);
            }

            release.SetResult();
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal("Welcome 127.0.0.1!\0ack 100\0", await Loopback.ReadAsync(client));
        }

        Assert.Equal(["wait"], printed);
    }

    [Fact]
    public void AcknowledgeWithoutJournalIsInvalid()
    {
        var error = Assert.Throws<ArgumentException>(() => new TalkServerOptions { Acknowledge = true }.Validate());
        Assert.StartsWith("Acknowledge needs a Journal", error.Message, StringComparison.Ordinal);
    }
}
