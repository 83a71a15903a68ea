using System.Buffers;
using System.Text;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Tests.Output;

/// <summary>How both line formats name a unix-socket peer: <c>unix:pid=N,uid=N</c>, port 0.</summary>
public class UnixPeerLineTests
{
    private static readonly DateTimeOffset s_at = new(2024, 5, 1, 12, 30, 15, 123, TimeSpan.Zero);

    private static MessageBatch Batch(UnixPeer peer) =>
        MessageBatch.FromMessages(new ConnectionInfo(4, "/run/tcptalk.sock", peer), s_at, MessageEncodings.Utf8, ["hi"u8.ToArray()]);

    private static string Lines(MessageBatch batch, MessageOutputFormat format)
    {
        using var writer = new MessageLineWriter(format);
        var output = new ArrayBufferWriter<byte>();
        writer.Write(batch, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [Fact]
    public void TextLineNamesTheUnixPeerByPidAndUid() =>
        Assert.Equal("2024-05-01T12:30:15.123Z unix:pid=42,uid=1000 hi\n", Lines(Batch(new UnixPeer(42, 1000, 1000)), MessageOutputFormat.Text));

    [Fact]
    public void UnixPeerTheOsSaysNothingAboutIsJustUnix() =>
        Assert.Equal("2024-05-01T12:30:15.123Z unix hi\n", Lines(Batch(UnixPeer.Unknown), MessageOutputFormat.Text));

    [Fact]
    public void JsonNamesTheSocketPathAndThePeerWithPortsZero() =>
        Assert.Equal(
            "{\"id\":null,\"received_at\":\"2024-05-01T12:30:15.123000Z\",\"local_address\":\"unix:/run/tcptalk.sock\",\"local_port\":0,"
            + "\"client_address\":\"unix:pid=42,uid=0\",\"client_port\":0,\"connection_id\":4,\"code_page\":65001,\"text\":\"hi\",\"raw\":\"aGk=\"}\n",
            Lines(Batch(new UnixPeer(42, 0, 0)), MessageOutputFormat.Json));

    [Fact]
    public void GreetingNamesTheUnixPeer() =>
        Assert.Equal("Welcome unix:pid=42,uid=0! port 0"u8.ToArray(),
            GreetingTemplate.Parse("Welcome {address}! port {port}", MessageEncodings.Utf8).Format(new UnixPeer(42, 0, 0).Name, 0));
}
