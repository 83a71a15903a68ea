using System.Net;
using System.Text;
using TcpTalk.Protocol;
using TcpTalk.Server;
using TcpTalk.Messages;

namespace TcpTalk.Server.Tests;

public class MessageOutputTests
{
    private static MessageBatch Batch(IPEndPoint remote, DateTimeOffset at, Encoding encoding, params byte[][] messages)
    {
        var buffer = messages.SelectMany(m => m).ToArray();
        var ranges = new List<(int, int)>();
        int offset = 0;
        foreach (var m in messages)
        {
            ranges.Add((offset, m.Length));
            offset += m.Length;
        }

        var connection = new ConnectionInfo(7, new IPEndPoint(IPAddress.Loopback, 12345), remote);
        return new MessageBatch(connection, at, encoding, buffer, ranges.ToArray());
    }

    [Fact]
    public async Task EachMessageIsOneLineWithUtcTimeClientAndEscapedText()
    {
        using var stream = new MemoryStream();
        var output = new MessageOutput(stream);
        var at = new DateTimeOffset(2026, 11, 25, 15, 4, 5, 678, TimeSpan.FromHours(2));
        await output.OnMessagesAsync(Batch(new IPEndPoint(IPAddress.Parse("::ffff:10.1.2.3"), 5000), at, MessageText.Utf8,
            "hello"u8.ToArray(), "a\nb\u001b"u8.ToArray(), []), default);
        await output.OnMessagesAsync(Batch(new IPEndPoint(IPAddress.IPv6Loopback, 6000), at, MessageText.GetEncoding("gbk"),
            [0xC4, 0xE3, 0xBA, 0xC3]), default);
        await output.DisposeAsync();

        Assert.Equal(
            "2026-11-25T13:04:05.678Z 10.1.2.3:5000 hello\n" +
            "2026-11-25T13:04:05.678Z 10.1.2.3:5000 a\\nb\\x1b\n" +
            "2026-11-25T13:04:05.678Z 10.1.2.3:5000 \n" +
            "2026-11-25T13:04:05.678Z [::1]:6000 你好\n",
            Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public async Task TheLongestScopedIpv6ClientIsPrintedWhole()
    {
        using var stream = new MemoryStream();
        var output = new MessageOutput(stream);
        var address = IPAddress.Parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
        address.ScopeId = uint.MaxValue;
        await output.OnMessagesAsync(Batch(new IPEndPoint(address, 65535), DateTimeOffset.UnixEpoch, MessageText.Utf8, "x"u8.ToArray()), default);
        await output.DisposeAsync();

        Assert.Equal($"1970-01-01T00:00:00.000Z [{address}]:65535 x\n", Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public async Task LinesAreFlushedWhenIdleWithoutDisposing()
    {
        using var stream = new MemoryStream();
        await using var output = new MessageOutput(stream);
        await output.OnMessagesAsync(Batch(new IPEndPoint(IPAddress.Loopback, 1), DateTimeOffset.UnixEpoch, MessageText.Utf8, "x"u8.ToArray()), default);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (stream.Length == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        Assert.Equal("1970-01-01T00:00:00.000Z 127.0.0.1:1 x\n", Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public async Task AClosedOutputStreamDoesNotFailTheServer()
    {
        var stream = new MemoryStream();
        await using var output = new MessageOutput(stream);
        stream.Dispose();
        var write = output.OnMessagesAsync(Batch(new IPEndPoint(IPAddress.Loopback, 1), DateTimeOffset.UnixEpoch, MessageText.Utf8, "x"u8.ToArray()), default);
        Assert.True(write.IsCompletedSuccessfully);
        output.Flush();
    }

    [Fact]
    public async Task JsonOutputIsOneObjectPerMessageWithExactBytes()
    {
        using var stream = new MemoryStream();
        var output = new MessageOutput(stream, MessageOutputFormat.Json);
        var at = new DateTimeOffset(2026, 11, 25, 15, 4, 5, 678, TimeSpan.Zero);
        var batch = Batch(new IPEndPoint(IPAddress.Parse("::ffff:10.1.2.3"), 5000), at, MessageText.Utf8, "tab\there"u8.ToArray(), [0xFF]);
        await output.OnMessagesAsync(batch with { FirstJournalId = 41 }, default);
        await output.DisposeAsync();

        Assert.Equal(
            "{\"id\":41,\"received_at\":\"2026-11-25T15:04:05.678000Z\",\"local_address\":\"127.0.0.1\",\"local_port\":12345," +
            "\"client_address\":\"10.1.2.3\",\"client_port\":5000,\"connection_id\":7,\"code_page\":65001,\"text\":\"tab\\there\",\"raw\":\"dGFiCWhlcmU=\"}\n" +
            "{\"id\":42,\"received_at\":\"2026-11-25T15:04:05.678000Z\",\"local_address\":\"127.0.0.1\",\"local_port\":12345," +
            "\"client_address\":\"10.1.2.3\",\"client_port\":5000,\"connection_id\":7,\"code_page\":65001,\"text\":\"\\uFFFD\",\"raw\":\"/w==\"}\n",
            Encoding.UTF8.GetString(stream.ToArray()));
    }
}
