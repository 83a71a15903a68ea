using System.Buffers;
using System.Net;
using System.Text;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Tests.Output;

/// <summary>The one formatter of both line formats, as serve's output and tcptalk messages use it.</summary>
public class MessageLineWriterTests
{
    private static readonly DateTimeOffset s_at = new DateTimeOffset(2024, 5, 1, 12, 30, 15, TimeSpan.Zero).AddTicks(1234567);

    [Fact]
    public void ABatchAndEachOfItsRecordsFormatTheSameLines()
    {
        var connection = new ConnectionInfo(3, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Parse("192.0.2.1"), 1234));
        var batch = MessageBatch.FromMessages(connection, s_at, MessageEncodings.Utf8, ["plain"u8.ToArray(), new byte[] { 0x1B, 0xFF }]) with { FirstJournalId = 9 };
        foreach (var format in new[] { MessageOutputFormat.Text, MessageOutputFormat.Json })
        {
            using var writer = new MessageLineWriter(format);
            var whole = new ArrayBufferWriter<byte>();
            writer.Write(batch, whole);
            string expected = MessageLineWriter.FormatLine(MessageRecord.FromBatch(batch, 0), format) + "\n"
                              + MessageLineWriter.FormatLine(MessageRecord.FromBatch(batch, 1), format) + "\n";
            Assert.Equal(expected, Encoding.UTF8.GetString(whole.WrittenSpan));
        }

        Assert.Equal("2024-05-01T12:30:15.123Z 192.0.2.1:1234 \\x1b\\xff", MessageLineWriter.FormatLine(MessageRecord.FromBatch(batch, 1)));
    }

    [Fact]
    public void PlainAndEscapedMessagesInOneTextBatchKeepTheirOrderAndEscapes()
    {
        var connection = new ConnectionInfo(3, new IPEndPoint(IPAddress.Loopback, 12345), new IPEndPoint(IPAddress.Parse("192.0.2.1"), 1234));
        var batch = MessageBatch.FromMessages(connection, s_at, MessageEncodings.Utf8,
            ["a\\b"u8.ToArray(), "plain"u8.ToArray(), Array.Empty<byte>(), "tab\tend"u8.ToArray(), "last"u8.ToArray()]);
        using var writer = new MessageLineWriter();
        var output = new ArrayBufferWriter<byte>(1); // grows on every line: each GetSpan must ask for enough
        writer.Write(batch, output);
        const string Prefix = "2024-05-01T12:30:15.123Z 192.0.2.1:1234 ";
        Assert.Equal(Prefix + "a\\\\b\n" + Prefix + "plain\n" + Prefix + "\n" + Prefix + "tab\\tend\n" + Prefix + "last\n",
            Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [Fact]
    public void JsonWithoutAJournalHasANullIdAndAStoredRecordKeepsItsTextAndCodePage()
    {
        var local = IPAddress.IPv6Loopback;
        var client = IPAddress.Parse("2001:db8::5");
        var unjournaled = new MessageRecord(0, s_at, local, 9000, client, 40001, 8, MessageEncodings.Utf8, "a\"b"u8);
        Assert.Equal(
            "{\"id\":null,\"received_at\":\"2024-05-01T12:30:15.123456Z\",\"local_address\":\"::1\",\"local_port\":9000,"
            + "\"client_address\":\"2001:db8::5\",\"client_port\":40001,\"connection_id\":8,\"code_page\":65001,\"text\":\"a\\\"b\",\"raw\":\"YSJi\"}",
            MessageLineWriter.FormatLine(unjournaled, MessageOutputFormat.Json));

        // A journal row: its stored text and code page win over decoding again (the code page may be unknown here).
        var stored = new MessageRecord(41, s_at, local, 9000, client, 40001, 8, MessageEncodings.Utf8, [0x81], text: "stored", codePage: 936);
        string json = MessageLineWriter.FormatLine(stored, MessageOutputFormat.Json);
        Assert.Contains("\"id\":41,", json, StringComparison.Ordinal);
        Assert.EndsWith("\"code_page\":936,\"text\":\"stored\",\"raw\":\"gQ==\"}", json, StringComparison.Ordinal);
    }

    [Fact]
    public void AnUnknownFormatIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>("format", () => new MessageLineWriter((MessageOutputFormat)7));
}
