using System.Buffers;
using System.Text;

namespace TcpTalk.Protocol.Tests;

/// <summary>The length-prefixed framings: octet counting (RFC 6587 3.4.1), u16be and u32be.</summary>
public class MessageFramerCountedTests
{
    private const int Limit = 12;

    private enum End { Clean, TooLong, Malformed }

    // Named so that test names stay printable; the bytes hold binary headers.
    private static readonly Dictionary<string, (FramingMode Mode, byte[] Input, string[] Expected, End End)> s_streams = new()
    {
        ["octet: several messages"] = (FramingMode.Octet, B("5 hello5 world1 !"), ["hello", "world", "!"], End.Clean),
        ["octet: NUL, CR, LF and spaces are data"] = (FramingMode.Octet, B("4 a\0\r\n3    2 10"), ["a\0\r\n", "   ", "10"], End.Clean),
        ["octet: message of exactly the limit"] = (FramingMode.Octet, B("12 123456789012"), ["123456789012"], End.Clean),
        ["octet: one over the limit"] = (FramingMode.Octet, B("1 x13 1234567890123"), ["x"], End.TooLong),
        ["octet: three digits where the limit has two"] = (FramingMode.Octet, B("1 x100"), ["x"], End.TooLong),
        ["octet: leading zero"] = (FramingMode.Octet, B("1 x05 hello"), ["x"], End.Malformed),
        ["octet: zero length"] = (FramingMode.Octet, B("0 "), [], End.Malformed),
        ["octet: non-digit"] = (FramingMode.Octet, B("1 xhello\n"), ["x"], End.Malformed),
        ["octet: space first"] = (FramingMode.Octet, B(" 5 hello"), [], End.Malformed),
        ["octet: digit then non-space"] = (FramingMode.Octet, B("5:hello"), [], End.Malformed),
        ["octet: cut inside the header"] = (FramingMode.Octet, B("1 x1"), ["x"], End.Malformed),
        ["octet: cut inside the message"] = (FramingMode.Octet, B("5 hel"), [], End.Malformed),
        ["octet: bytes after a frame that are not a length"] = (FramingMode.Octet, B("11 <13>Dec 2 ab"), ["<13>Dec 2 a"], End.Malformed),
        ["u16be: several and empty messages"] = (FramingMode.U16BE, [0, 2, .. B("hi"), 0, 0, 0, 1, 0], ["hi", "", "\0"], End.Clean),
        ["u16be: message of exactly the limit"] = (FramingMode.U16BE, [0, 12, .. B("123456789012")], ["123456789012"], End.Clean),
        ["u16be: one over the limit"] = (FramingMode.U16BE, [0, 1, .. B("x"), 0, 13, .. B("1234567890123")], ["x"], End.TooLong),
        ["u16be: huge length"] = (FramingMode.U16BE, [0xFF, 0xFF], [], End.TooLong),
        ["u16be: cut inside the header"] = (FramingMode.U16BE, [0, 1, .. B("x"), 0], ["x"], End.Malformed),
        ["u16be: cut inside the message"] = (FramingMode.U16BE, [0, 3, .. B("ab")], [], End.Malformed),
        ["u32be: several and empty messages"] = (FramingMode.U32BE, [0, 0, 0, 2, .. B("hi"), 0, 0, 0, 0, 0, 0, 0, 1, 10], ["hi", "", "\n"], End.Clean),
        ["u32be: one over the limit"] = (FramingMode.U32BE, [0, 0, 0, 13], [], End.TooLong),
        ["u32be: length with the top bit set"] = (FramingMode.U32BE, [0x80, 0, 0, 1, .. B("x")], [], End.TooLong),
        ["u32be: cut inside the header"] = (FramingMode.U32BE, [0, 0, 0], [], End.Malformed),
    };

    public static TheoryData<string> Streams => new(s_streams.Keys);

    [Theory]
    [MemberData(nameof(Streams))]
    public void ReferenceSplitterAgreesWithTheWrittenDownExpectation(string name)
    {
        var (mode, input, expected, end) = s_streams[name];
        var reference = FramerHarness.Reference(input, mode, Limit);
        Assert.Equal(expected, reference.Messages.Select(Latin1));
        Assert.Equal(end == End.TooLong, reference.TooLong);
        Assert.Equal(end == End.Malformed, reference.Malformed);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void BothReadersFindTheSameMessagesWhereverTheStreamIsCut(string name)
    {
        var (mode, input, _, _) = s_streams[name];
        var expected = FramerHarness.Reference(input, mode, Limit);
        var framer = new MessageFramer(mode, Limit);
        foreach (var chunks in FramerHarness.AllCuts(input))
        {
            var spans = FramerHarness.FeedSpans(framer, chunks);
            Assert.True(expected.SameAs(spans), $"spans cut into {chunks.Count} reads: expected {expected}, got {spans}");
            foreach (bool withEmptySegments in new[] { false, true })
            {
                var sequences = FramerHarness.FeedSequences(framer, chunks, withEmptySegments);
                Assert.True(expected.SameAs(sequences), $"sequences cut into {chunks.Count} reads: expected {expected}, got {sequences}");
            }
        }
    }

    [Theory]
    [InlineData("05 hello", "octet-counted length starts with 0 (RFC 6587 lengths start with 1 to 9); it starts \"0\"")]
    [InlineData("x5 hello", "octet-counted frame does not start with a decimal length and a space; it starts \"x\"")]
    [InlineData("5\nhello", "octet-counted frame does not start with a decimal length and a space; it starts \"5\\n\"")]
    [InlineData(" 5 hello", "octet-counted frame does not start with a decimal length and a space; it starts \" \"")]
    public void MalformedOctetHeaderIsAProtocolErrorQuotingIt(string input, string sentence)
    {
        var framer = new MessageFramer(FramingMode.Octet, Limit);
        var error = Assert.Throws<MalformedFrameException>(() => framer.TryReadMessage(B(input), out _, out _, out _));
        Assert.Equal(sentence, error.Message);
        Assert.IsAssignableFrom<ProtocolException>(error);
    }

    [Theory]
    [InlineData(FramingMode.Octet, new byte[] { (byte)'1', (byte)'3', (byte)' ' }, "message of 13 bytes announced, longer than 12 bytes (the limit); it starts \"13 \"")]
    [InlineData(FramingMode.Octet, new byte[] { (byte)'1', (byte)'2', (byte)'3' }, "octet-counted length has more digits than a message of at most 12 bytes (the limit) needs; it starts \"123\"")]
    [InlineData(FramingMode.U16BE, new byte[] { 0, 13 }, "message of 13 bytes announced, longer than 12 bytes (the limit); it starts \"\\x00\\r\"")]
    [InlineData(FramingMode.U32BE, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, "message of 4294967295 bytes announced, longer than 12 bytes (the limit); it starts \"\\xff\\xff\\xff\\xff\"")]
    public void HeaderOverTheLimitIsRefusedBeforeTheBodyArrives(FramingMode mode, byte[] header, string sentence)
    {
        var framer = new MessageFramer(mode, Limit);
        var error = Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(header, out _, out _, out _));
        Assert.Equal(Limit, error.Limit);
        Assert.Equal(sentence, error.Message);
        var sequence = new ReadOnlySequence<byte>(header);
        Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(ref sequence, out _));
    }

    [Theory]
    [InlineData(FramingMode.Octet, "5 he")]
    [InlineData(FramingMode.Octet, "5")]
    [InlineData(FramingMode.U16BE, "\0")]
    [InlineData(FramingMode.U32BE, "\0\0\0\u0005he")]
    public void TailAtEndOfStreamIsAFrameCutShort(FramingMode mode, string tail)
    {
        var framer = new MessageFramer(mode, Limit);
        Assert.False(framer.TryReadMessage(B(tail), out _, out _, out _));
        var error = Assert.Throws<MalformedFrameException>(() => framer.TryReadFinalMessage(B(tail), out _));
        Assert.StartsWith($"connection closed inside a frame ({mode.ToName()} framing); it starts \"", error.Message);
        Assert.False(framer.TryReadFinalMessage(ReadOnlySpan<byte>.Empty, out _));
    }

    [Theory]
    [InlineData(FramingMode.Octet, "hello", "3520")]
    [InlineData(FramingMode.U16BE, "hello", "0005")]
    [InlineData(FramingMode.U32BE, "hello", "00000005")]
    [InlineData(FramingMode.U16BE, "", "0000")]
    [InlineData(FramingMode.U32BE, "", "00000000")]
    public void WriteFramePutsTheLengthHeaderFirst(FramingMode mode, string message, string headerHex)
    {
        var framer = new MessageFramer(mode, Limit);
        Assert.True(framer.CanCarry(B(message), out _));
        var output = new ArrayBufferWriter<byte>();
        framer.WriteFrame(B(message), output);
        Assert.Equal(headerHex + Convert.ToHexString(B(message)), Convert.ToHexString(output.WrittenSpan));
    }

    [Fact]
    public void TenDigitOctetLengthsFitTheLargestLimit()
    {
        var framer = new MessageFramer(FramingMode.Octet, MessageFramer.MaxAllowedMessageBytes);
        Assert.Equal(11, framer.MaxHeaderBytes);
        Assert.False(framer.TryReadMessage(B("1073741824 "), out _, out _, out _)); // exactly 1 GiB: waits for the body
        Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(B("1073741825 "), out _, out _, out _));
        Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(B("99999999999"), out _, out _, out _));
    }

    [Fact]
    public void U16beLimitIsCappedAtWhatTheHeaderCanSay()
    {
        var framer = new MessageFramer(FramingMode.U16BE, MessageFramer.DefaultMaxMessageBytes);
        Assert.Equal(65535, framer.MaxMessageBytes);
        Assert.Equal(65537, framer.MaxFrameBytes);
        Assert.False(framer.CanCarry(new byte[65536], out string? reason));
        Assert.Contains("65535", reason);
    }

    [Fact]
    public void OctetCountingCannotCarryAnEmptyMessage()
    {
        var framer = new MessageFramer(FramingMode.Octet, Limit);
        Assert.False(framer.CanCarry([], out string? reason));
        Assert.Equal("message is empty, which octet-counted framing cannot carry (RFC 6587 lengths start at 1)", reason);
        Assert.True(framer.CanCarry(B("\0\n\r"), out _));
    }

    [Fact]
    public void CountedFramingsHaveNoTerminatorAndNeedTheMessageStart()
    {
        var framer = new MessageFramer(FramingMode.U16BE, Limit);
        Assert.Throws<InvalidOperationException>(() => framer.TerminatorByte);
        Assert.Throws<InvalidOperationException>(() => framer.TryReadMessage(B("\0\u0001x"), out _, out _));
        Assert.True(framer.TryReadMessage(B("\0\u0001xyz"), out int start, out int length, out int frame));
        Assert.Equal((2, 1, 3), (start, length, frame));
    }

    [Theory]
    [InlineData(FramingMode.Octet, "6 ack 42")]
    [InlineData(FramingMode.U16BE, "\0\u0006ack 42")]
    [InlineData(FramingMode.U32BE, "\0\0\0\u0006ack 42")]
    [InlineData(FramingMode.Nul, "ack 42\0")]
    [InlineData(FramingMode.Line, "ack 42\n")]
    public void AckIsFramedLikeEveryOtherFrame(FramingMode mode, string expected)
    {
        var framer = new MessageFramer(mode, 5); // an ack longer than the client's limit still fits its buffer
        var frame = new byte[ServerReply.MaxAckFrameBytes];
        int length = ServerReply.WriteAck(42, framer, frame);
        Assert.Equal(expected, Latin1(frame[..length]));
        int longest = ServerReply.WriteAck(long.MaxValue, framer, frame);
        Assert.True(longest <= ServerReply.MaxAckFrameBytes);
    }

    [Theory]
    [InlineData(FramingMode.Octet, "21 error: too much  here")]
    [InlineData(FramingMode.U16BE, "\0\u0015error: too much  here")]
    public void ErrorLineIsFramedAndKeepsItsText(FramingMode mode, string expected)
    {
        var framer = new MessageFramer(mode, Limit);
        var output = new ArrayBufferWriter<byte>();
        ServerReply.WriteError("too much\0 here", framer, output);
        Assert.Equal(expected, Latin1(output.WrittenSpan.ToArray()));
    }

    [Fact]
    public void GreetingFramedInPlaceMovesThePayloadBehindTheHeader()
    {
        var framer = new MessageFramer(FramingMode.Octet);
        var buffer = new byte[framer.MaxOverheadBytes + 32];
        int length = Encoding.ASCII.GetBytes("Welcome 127.0.0.1!", buffer.AsSpan(framer.MaxOverheadBytes));
        int frame = framer.WriteFrameInto(buffer.AsSpan(framer.MaxOverheadBytes, length), buffer);
        Assert.Equal("18 Welcome 127.0.0.1!", Latin1(buffer[..frame]));
    }

    [Theory]
    [InlineData("octet", FramingMode.Octet)]
    [InlineData("Octet-Counted", FramingMode.Octet)]
    [InlineData("u16be", FramingMode.U16BE)]
    [InlineData("U32BE", FramingMode.U32BE)]
    public void NewNamesParseAndNameBack(string text, FramingMode mode)
    {
        Assert.True(FramingModeNames.TryParse(text, out var parsed));
        Assert.Equal(mode, parsed);
        Assert.Contains(mode.ToName(), FramingModeNames.All);
        Assert.True(mode.IsLengthPrefixed());
    }

    private static byte[] B(string text) => Encoding.Latin1.GetBytes(text);

    private static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);
}
