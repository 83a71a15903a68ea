using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using TcpTalk.Cli.Output;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Tests.Output;

/// <summary>serve's stdout writer: exact lines, written when idle, and what a stream that stops or fails does.</summary>
public class MessageOutputTests
{
    private static readonly ConnectionInfo s_connection = new(7, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Loopback, 1));

    private static MessageBatch Batch(string text, ConnectionInfo? connection = null, DateTimeOffset? at = null) =>
        MessageBatch.FromTexts(connection ?? s_connection, at ?? DateTimeOffset.UnixEpoch, MessageEncodings.Utf8, text);

    private static string Line(string text) => $"1970-01-01T00:00:00.000Z 127.0.0.1:1 {text}\n";

    [Fact]
    public async Task EachMessageIsOneLineWithUtcTimeClientAndEscapedText()
    {
        using var stream = new MemoryStream();
        var output = new MessageOutput(stream);
        var at = new DateTimeOffset(2026, 11, 25, 15, 4, 5, 678, TimeSpan.FromHours(2));
        var mapped = new ConnectionInfo(7, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Parse("::ffff:10.1.2.3"), 5000));
        var v6 = new ConnectionInfo(8, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.IPv6Loopback, 6000));
        await output.OnMessagesAsync(MessageBatch.FromMessages(mapped, at, MessageEncodings.Utf8, ["hello"u8.ToArray(), "a\nb\u001b"u8.ToArray(), Array.Empty<byte>()]), default);
        await output.OnMessagesAsync(MessageBatch.FromMessages(v6, at, MessageEncodings.GetEncoding("gbk"), [new byte[] { 0xC4, 0xE3, 0xBA, 0xC3 }]), default);
        await output.DisposeAsync();

        Assert.Equal(
            "2026-11-25T13:04:05.678Z 10.1.2.3:5000 hello\n" +
            "2026-11-25T13:04:05.678Z 10.1.2.3:5000 a\\nb\\x1b\n" +
            "2026-11-25T13:04:05.678Z 10.1.2.3:5000 \n" +
            "2026-11-25T13:04:05.678Z [::1]:6000 你好\n",
            Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public async Task JsonOutputIsOneObjectPerMessageWithExactBytes()
    {
        using var stream = new MemoryStream();
        var output = new MessageOutput(stream, new MessageOutputOptions { Format = MessageOutputFormat.Json });
        var at = new DateTimeOffset(2026, 11, 25, 15, 4, 5, 678, TimeSpan.Zero);
        var mapped = new ConnectionInfo(7, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Parse("::ffff:10.1.2.3"), 5000));
        var batch = MessageBatch.FromMessages(mapped, at, MessageEncodings.Utf8, ["tab\there"u8.ToArray(), new byte[] { 0xFF }]);
        await output.OnMessagesAsync(batch with { FirstJournalId = 41 }, default);
        await output.DisposeAsync();

        Assert.Equal(
            "{\"id\":41,\"received_at\":\"2026-11-25T15:04:05.678000Z\",\"local_address\":\"127.0.0.1\",\"local_port\":12345," +
            "\"client_address\":\"10.1.2.3\",\"client_port\":5000,\"connection_id\":7,\"code_page\":65001,\"text\":\"tab\\there\",\"raw\":\"dGFiCWhlcmU=\"}\n" +
            "{\"id\":42,\"received_at\":\"2026-11-25T15:04:05.678000Z\",\"local_address\":\"127.0.0.1\",\"local_port\":12345," +
            "\"client_address\":\"10.1.2.3\",\"client_port\":5000,\"connection_id\":7,\"code_page\":65001,\"text\":\"\uFFFD\",\"raw\":\"/w==\"}\n",
            Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public async Task LinesAreWrittenWhenIdleWithoutDisposing()
    {
        using var stream = new HeldStream();
        await using var output = new MessageOutput(stream);
        await output.OnMessagesAsync(Batch("x"), default);

        await Poll.UntilAsync(() => stream.Written.Length > 0);
        Assert.Equal(Line("x"), Encoding.UTF8.GetString(stream.Written));
    }

    [Fact]
    public async Task AFailedOutputStreamTurnsTheOutputOffAndTheServerKeepsServing()
    {
        var stream = new FailingStream(goodWrites: 1);
        var output = new MessageOutput(stream);
        await output.OnMessagesAsync(Batch("first"), default);
        await Poll.UntilAsync(() => stream.Writes == 1);
        await output.OnMessagesAsync(Batch("lost"), default);
        await Poll.UntilAsync(() => stream.Writes == 2); // the write that fails: from now on the output is off

        var later = output.OnMessagesAsync(Batch("after"), default);
        Assert.True(later.IsCompletedSuccessfully); // never waits for a stream that is gone, even in Wait mode
        await output.DisposeAsync();

        Assert.Equal(Line("first"), Encoding.UTF8.GetString(stream.Written));
        Assert.Equal(2, stream.Writes);
    }

    [Fact]
    public async Task WithSkipAStalledStreamNeverMakesAConnectionWaitAndSkippedLinesAreCountedAndWarned()
    {
        using var stream = new HeldStream();
        var log = new CapturedLog();
        var stall = TimeSpan.FromMilliseconds(200);
        var output = new MessageOutput(stream, new MessageOutputOptions { WhenBehind = OutputBehind.Skip, MaxBufferedBytes = 1000, StalledAfter = stall, LoggerFactory = log });
        stream.Hold();
        await output.OnMessagesAsync(Batch("0"), default);
        await Poll.UntilAsync(() => stream.BlockedWrites == 1); // the writer holds line 0 and waits on the stream
        await Task.Delay(stall + TimeSpan.FromMilliseconds(100)); // the stream has taken nothing for longer than StalledAfter

        for (int i = 1; i <= 1000; i++)
        {
            Assert.True(output.OnMessagesAsync(Batch(Text(i)), default).IsCompletedSuccessfully);
        }

        // Lines are taken while fewer than 1000 bytes are buffered (the last one passes the bound); the rest are skipped.
        int taken = Fitting(1000);
        Assert.Equal(1000 - taken, output.SkippedLines);
        var first = log.Entries.First(e => e.Level == LogLevel.Warning);
        Assert.Equal("TcpTalk.Output", first.Category);
        Assert.Equal("Output is not keeping up: skipped 1 line(s) since the last such warning; the journal has every message (tcptalk messages shows them)", first.Message);

        stream.Release();
        await output.DisposeAsync();
        string[] lines = Encoding.UTF8.GetString(stream.Written).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Enumerable.Range(0, taken + 1).Select(i => Line(Text(i))[..^1]), lines);

        // At most one warning a second, and together they count every skipped line (the last ones when the output stops).
        var counts = log.Entries.Where(e => e.Level == LogLevel.Warning)
            .Select(e => long.Parse(System.Text.RegularExpressions.Regex.Match(e.Message, "skipped ([0-9]+) line").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
        Assert.InRange(counts.Count, 2, 3);
        Assert.Equal(output.SkippedLines, counts.Sum());
    }

    /// <summary>Holds the stream with line 0 in the write, then offers lines 1-200 to a 1000-byte bound; the first <c>taken</c> fit.</summary>
    private static async Task<(List<Task> Writes, int Taken)> FloodPastTheBoundAsync(HeldStream stream, MessageOutput output)
    {
        stream.Hold();
        await output.OnMessagesAsync(Batch("0"), default);
        await Poll.UntilAsync(() => stream.BlockedWrites == 1);
        return ([.. Enumerable.Range(1, 200).Select(i => output.OnMessagesAsync(Batch(Text(i)), default).AsTask())], Fitting(1000));
    }

    [Fact]
    public async Task WithSkipAStreamThatStillTakesBytesMakesConnectionsWaitAndNoLineIsSkipped()
    {
        // A flood into a file: the stream is busy, not stalled, so the lines wait for it as with Wait.
        using var stream = new HeldStream();
        var output = new MessageOutput(stream, new MessageOutputOptions { WhenBehind = OutputBehind.Skip, MaxBufferedBytes = 1000, StalledAfter = TimeSpan.FromSeconds(20) });
        var (writes, taken) = await FloodPastTheBoundAsync(stream, output);
        Assert.All(writes.Take(taken), w => Assert.True(w.IsCompletedSuccessfully));
        Assert.All(writes.Skip(taken), w => Assert.False(w.IsCompleted));

        stream.Release();
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(10));
        await output.DisposeAsync();
        Assert.Equal(0, output.SkippedLines);
        Assert.Equal(201, Encoding.UTF8.GetString(stream.Written).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task WithSkipConnectionsWaitingForAStreamThatStallsSkipTheirLinesOnceItHasTakenNothingForStalledAfter()
    {
        using var stream = new HeldStream();
        var output = new MessageOutput(stream, new MessageOutputOptions { WhenBehind = OutputBehind.Skip, MaxBufferedBytes = 1000, StalledAfter = TimeSpan.FromMilliseconds(300) });
        var (writes, taken) = await FloodPastTheBoundAsync(stream, output);
        Assert.False(writes[taken].IsCompleted); // waits first: the stream might only be busy
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(10)); // the stream never takes a byte: all give up waiting
        Assert.Equal(200 - taken, output.SkippedLines);

        stream.Release();
        await output.DisposeAsync();
        Assert.Equal(taken + 1, Encoding.UTF8.GetString(stream.Written).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task WithWaitAStalledStreamMakesConnectionsWaitAndNoLineIsLost()
    {
        using var stream = new HeldStream();
        var output = new MessageOutput(stream, new MessageOutputOptions { WhenBehind = OutputBehind.Wait, MaxBufferedBytes = 1000 });
        stream.Hold();
        await output.OnMessagesAsync(Batch("0"), default);
        await Poll.UntilAsync(() => stream.BlockedWrites == 1);

        var writes = new List<Task>();
        for (int i = 1; i <= 200; i++)
        {
            writes.Add(output.OnMessagesAsync(Batch(Text(i)), default).AsTask());
        }

        int taken = Fitting(1000);
        Assert.All(writes.Take(taken), w => Assert.True(w.IsCompletedSuccessfully));
        Assert.All(writes.Skip(taken), w => Assert.False(w.IsCompleted)); // backpressure: these connections wait

        stream.Release();
        await Task.WhenAll(writes).WaitAsync(TimeSpan.FromSeconds(10));
        await output.DisposeAsync();
        string[] lines = Encoding.UTF8.GetString(stream.Written).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(201, lines.Length);
        Assert.Equal(0, output.SkippedLines);
        Assert.Equal(Enumerable.Range(0, 201).Select(i => Text(i)).Order(),
            lines.Select(l => l[(l.LastIndexOf(' ') + 1)..]).Order());
    }

    [Fact]
    public async Task AWaitingConnectionGivesUpWhenItsTokenIsCancelled()
    {
        using var stream = new HeldStream();
        var output = new MessageOutput(stream, new MessageOutputOptions { MaxBufferedBytes = 10 });
        stream.Hold();
        await output.OnMessagesAsync(Batch("0"), default);
        await Poll.UntilAsync(() => stream.BlockedWrites == 1);
        await output.OnMessagesAsync(Batch("1"), default); // fills the buffer past its 10 bytes

        using var abort = new CancellationTokenSource();
        var waiting = output.OnMessagesAsync(Batch("2"), abort.Token).AsTask();
        Assert.False(waiting.IsCompleted);
        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(TimeSpan.FromSeconds(10)));

        stream.Release();
        await output.DisposeAsync();
        Assert.Equal(Line("0") + Line("1"), Encoding.UTF8.GetString(stream.Written));
    }

    private static string Text(int i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>How many of the lines 1, 2, 3... a buffer of <paramref name="bound"/> bytes takes: one past the bound.</summary>
    private static int Fitting(int bound)
    {
        int length = 0, count = 0;
        while (length < bound)
        {
            length += Line(Text(++count)).Length;
        }

        return count;
    }
}
