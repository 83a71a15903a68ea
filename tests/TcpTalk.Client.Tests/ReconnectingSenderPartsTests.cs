using System.Net.Sockets;
using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Client.Tests;

/// <summary>The pieces of the reconnecting sender that need no server: backoff, what is retried, settings, the memory spool.</summary>
public class ReconnectingSenderPartsTests
{
    [Fact]
    public void BackoffDoublesPerFailureUpToTheMaximumAndKeepsAtLeastHalf()
    {
        var backoff = new RetryBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(7));
        for (int failures = 1; failures <= 20; failures++)
        {
            double nominal = Math.Min(100 * Math.Pow(2, failures - 1), 30_000);
            for (int i = 0; i < 50; i++)
            {
                Assert.InRange(backoff.Delay(failures).TotalMilliseconds, nominal / 2, nominal);
            }
        }

        Assert.InRange(backoff.Delay(int.MaxValue), TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void BackoffIsJittered()
    {
        var backoff = new RetryBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(7));
        Assert.True(Enumerable.Range(0, 20).Select(_ => backoff.Delay(5)).Distinct().Count() > 10);
    }

    public static TheoryData<Exception, bool> Failures() => new()
    {
        { new ConnectFailedException("refused", SocketError.ConnectionRefused), true },
        { new TalkTimeoutException("no answer"), true },
        { new ServerClosedException("reset"), true },
        { new NotAcknowledgedException(1, [], "no ack"), true },
        { new SocketException((int)SocketError.ConnectionReset), true },
        { new HostNotFoundException("nowhere.invalid"), true },
        { new GreetingMissingException("closed without greeting"), true },
        { new ServerErrorException("server busy: 10 connections open (the limit); try again later"), true },
        { new ServerErrorException("messages not stored: the disk is full"), true },
        { new ServerErrorException("messages may not be stored: an I/O error occurred"), true },
        { new ServerErrorException("no complete message for 5m (idle timeout)"), true },
        { new TlsHandshakeException("TLS handshake did not complete within 10s") { Transient = true }, true },
        { new ServerErrorException("message longer than 10 bytes (the limit); it starts \"aaaaaaaaaa\""), false },
        { new TlsHandshakeException("the server's certificate is not trusted"), false },
        { new ProtocolException("greeting is longer than 65536 bytes"), false },
        { new ArgumentException("usage"), false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void PassingFailuresAreRetriedAndRepeatingOnesAreNot(Exception error, bool retryable) =>
        Assert.Equal(retryable, SendFailures.IsRetryable(error));

    [Fact]
    public void SenderOptionsDefaults()
    {
        var options = new ReconnectingSenderOptions();
        Assert.Equal(TimeSpan.FromMilliseconds(100), options.InitialRetryDelay);
        Assert.Equal(TimeSpan.FromSeconds(30), options.MaxRetryDelay);
        Assert.Null(options.RetryFor);
        Assert.Equal(1L << 30, options.MaxSpoolBytes);
        Assert.Equal(1024, options.MaxInFlight);
        options.Validate();
    }

    [Theory]
    [InlineData(0, 30_000, null, 1, 1, "InitialRetryDelay")]
    [InlineData(100, 99, null, 1, 1, "MaxRetryDelay")]
    [InlineData(100, 100, 0, 1, 1, "RetryFor")]
    [InlineData(100, 100, 1, 0, 1, "MaxSpoolBytes")]
    [InlineData(100, 100, 1, 1, 0, "MaxInFlight")]
    [InlineData(100, 100, 1, 1, 1_000_001, "MaxInFlight")]
    public void SenderOptionsInvalid(int initialMs, int maxMs, int? retryForMs, long maxBytes, int inFlight, string named)
    {
        var options = new ReconnectingSenderOptions
        {
            InitialRetryDelay = TimeSpan.FromMilliseconds(initialMs),
            MaxRetryDelay = TimeSpan.FromMilliseconds(maxMs),
            RetryFor = retryForMs is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
            MaxSpoolBytes = maxBytes,
            MaxInFlight = inFlight,
        };
        Assert.StartsWith(named + " is", Assert.Throws<ArgumentException>(options.Validate).Message);
    }

    [Fact]
    public void MemorySpoolKeepsOrderAndForgetsWhatIsAcknowledged()
    {
        var spool = new MemoryMessageSpool();
        Assert.Equal(3, spool.Append([Encoding.UTF8.GetBytes("a"), Encoding.UTF8.GetBytes("bc"), Encoding.UTF8.GetBytes("")]));
        Assert.Equal([2L, 3L], spool.Read(1, 10).Select(m => m.Sequence));
        spool.Acknowledge(2);
        Assert.Equal((1L, 0L, 3L), (spool.Backlog.Messages, spool.Backlog.Bytes, spool.Backlog.LastSequence));
        spool.Acknowledge(3);
        Assert.Null(spool.Backlog.Oldest);
    }

    [Fact]
    public async Task AppendingAMessageTheFramingCannotCarryStoresNothing()
    {
        var spool = new MemoryMessageSpool();
        var sender = new ReconnectingSender("127.0.0.1", 9, spool, new ReconnectingSenderOptions { Client = new TalkClientOptions { Framing = FramingMode.Line } });
        var refused = await Assert.ThrowsAsync<ArgumentException>(() => sender.AppendAsync([Encoding.UTF8.GetBytes("ok"), Encoding.UTF8.GetBytes("two\nlines")]));
        Assert.StartsWith("message 2 of the batch:", refused.Message);
        Assert.Equal(0, spool.Backlog.LastSequence);
    }
}
