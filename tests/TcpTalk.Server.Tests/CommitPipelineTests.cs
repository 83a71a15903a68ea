using System.Net;
using System.Net.Sockets;
using TcpTalk.Messages;
using TcpTalk.TestSupport;

namespace TcpTalk.Server.Tests;

/// <summary>
/// A connection keeps reading while its earlier reads are committed (<see cref="CommitPipeline"/>): the order of
/// printing and acknowledging stays the reading order, a failure acknowledges nothing after it, and a journal that
/// falls behind stops the reads.
/// </summary>
public class CommitPipelineTests
{
    private static async Task<(TalkServer Server, Socket Client)> StartAsync(IMessageJournal journal, List<string> printed)
    {
        var options = new TalkServerOptions { Journal = journal, Acknowledge = true };
        options.Listen.Add(new IPEndPoint(IPAddress.Loopback, 0));
        var server = new TalkServer(options, MessageSinks.FromDelegate(m => { lock (printed) { printed.Add(m.Text); } }));
        await server.StartAsync();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(server.BoundEndpoints[0]);
        Assert.Equal("Welcome 127.0.0.1!\0", await Loopback.ReadAsync(client, frames: 1));
        return (server, client);
    }

    /// <summary>Sends <paramref name="text"/> as one read and waits until the journal has its append.</summary>
    private static async Task SendReadAsync(Socket client, GatedJournal journal, string text)
    {
        int before = journal.Appends;
        await client.SendAsync(System.Text.Encoding.ASCII.GetBytes(text));
        await Poll.UntilAsync(() => journal.Appends == before + 1);
    }

    [Fact]
    public async Task ANewReadIsCommittingBeforeTheOneBeforeItIsStored()
    {
        var journal = new GatedJournal();
        var printed = new List<string>();
        var (server, client) = await StartAsync(journal, printed);
        await using (server)
        using (client)
        {
            await SendReadAsync(client, journal, "a\0b\0");
            await SendReadAsync(client, journal, "c\0");
            Assert.Equal(["a", "b"], journal.Texts(0));
            Assert.Equal(["c"], journal.Texts(1));
        }
    }

    [Fact]
    public async Task ACommitThatEndsFirstWaitsForTheOlderOneSoPrintingAndAcksKeepTheReadingOrder()
    {
        var journal = new GatedJournal();
        var printed = new List<string>();
        var (server, client) = await StartAsync(journal, printed);
        await using (server)
        using (client)
        {
            await SendReadAsync(client, journal, "a\0b\0");
            await SendReadAsync(client, journal, "c\0");
            journal.Commit(1);
            Assert.True(await Loopback.StaysOpenAsync(client)); // c is stored, but a and b are not yet: no ack at all
            lock (printed)
            {
                Assert.Empty(printed);
            }

            journal.Commit(0);
            client.Shutdown(SocketShutdown.Send);
            Assert.Equal("ack 100\0ack 101\0ack 102\0", await Loopback.ReadAsync(client));
        }

        Assert.Equal(["a", "b", "c"], printed);
    }

    [Fact]
    public async Task AFailedCommitMidPipelineAcknowledgesAndPrintsNothingFromItOn()
    {
        var journal = new GatedJournal();
        var printed = new List<string>();
        var (server, client) = await StartAsync(journal, printed);
        await using (server)
        using (client)
        {
            await SendReadAsync(client, journal, "a\0");
            await SendReadAsync(client, journal, "b\0");
            await SendReadAsync(client, journal, "c\0");
            journal.Commit(0);
            Assert.Equal("ack 100\0", await Loopback.ReadAsync(client, frames: 1));
            journal.Fail(1, "disk full");
            journal.Fail(2, "disk full");
            Assert.Equal("error: messages not stored: disk full\0", await Loopback.ReadAsync(client));
        }

        Assert.Equal(["a"], printed);
    }

    [Fact]
    public async Task AFailedCommitFollowedByAStoredOneSaysTheMessagesMayNotBeStored()
    {
        var journal = new GatedJournal();
        var printed = new List<string>();
        var (server, client) = await StartAsync(journal, printed);
        await using (server)
        using (client)
        {
            await SendReadAsync(client, journal, "a\0");
            await SendReadAsync(client, journal, "b\0");
            journal.Commit(1); // b is stored, yet it comes after a, which is not: b is never acknowledged
            journal.Fail(0, "disk full");
            Assert.Equal("error: messages may not be stored: disk full\0", await Loopback.ReadAsync(client));
        }

        Assert.Empty(printed);
    }

    [Fact]
    public async Task AJournalThatFallsBehindStopsTheReadsAtTheBoundOfBatchesInFlight()
    {
        var journal = new GatedJournal();
        var printed = new List<string>();
        var (server, client) = await StartAsync(journal, printed);
        await using (server)
        using (client)
        {
            for (int i = 0; i < CommitPipeline.MaxBatchesInFlight; i++)
            {
                await SendReadAsync(client, journal, $"m{i}\0");
            }

            await client.SendAsync("late\0"u8.ToArray());
            Assert.True(await Loopback.StaysOpenAsync(client));
            Assert.Equal(CommitPipeline.MaxBatchesInFlight, journal.Appends); // not read: it waits in the socket

            journal.Commit(0);
            await Poll.UntilAsync(() => journal.Appends == CommitPipeline.MaxBatchesInFlight + 1);
            Assert.Equal(["late"], journal.Texts(CommitPipeline.MaxBatchesInFlight));
            for (int i = 1; i <= CommitPipeline.MaxBatchesInFlight; i++)
            {
                journal.Commit(i);
            }

            client.Shutdown(SocketShutdown.Send);
            Assert.Equal("ack 100\0ack 101\0ack 102\0ack 103\0ack 104\0", await Loopback.ReadAsync(client));
        }

        Assert.Equal(["m0", "m1", "m2", "m3", "late"], printed);
    }
}
