using System.Buffers;
using System.Text;

namespace TcpTalk.Protocol.Tests;

public class MessageFramerTests
{
    private const int Limit = 8;

    // Named so that test names stay printable; the bytes hold NUL, CR and LF.
    private static readonly Dictionary<string, (FramingMode Mode, byte[] Input, string[] Expected, bool TooLong)> s_streams = new()
    {
        ["nul: several messages"] = (FramingMode.Nul, B("hello\0world\0!\0"), ["hello", "world", "!"], false),
        ["nul: empty messages"] = (FramingMode.Nul, B("\0a\0\0\0b\0"), ["", "a", "", "", "b"], false),
        ["nul: CR and LF are data"] = (FramingMode.Nul, B("a\r\n\0\r\0\n\0"), ["a\r\n", "\r", "\n"], false),
        ["nul: non-ASCII bytes"] = (FramingMode.Nul, [.. B("w"), 0xC3, 0xB6, .. B("rld\0"), 0xFF, 0xFE, 0x80, 0x00], ["w\u00c3\u00b6rld", "\u00ff\u00fe\u0080"], false),
        ["nul: unterminated tail"] = (FramingMode.Nul, B("ab\0cd"), ["ab", "cd"], false),
        ["nul: one-byte tail"] = (FramingMode.Nul, B("ab\0c"), ["ab", "c"], false),
        ["nul: message of exactly the limit"] = (FramingMode.Nul, B("x\012345678\0y\0"), ["x", "12345678", "y"], false),
        ["nul: tail of exactly the limit"] = (FramingMode.Nul, B("x\012345678"), ["x", "12345678"], false),
        ["nul: message one over the limit"] = (FramingMode.Nul, B("x\0123456789\0y\0"), ["x"], true),
        ["nul: tail one over the limit"] = (FramingMode.Nul, B("x\0123456789"), ["x"], true),
        ["line: several messages"] = (FramingMode.Line, B("hello\nworld\n!\n"), ["hello", "world", "!"], false),
        ["line: empty messages and CRLF"] = (FramingMode.Line, B("\n\r\na\r\n\n"), ["", "", "a", ""], false),
        ["line: CR not before LF is kept"] = (FramingMode.Line, B("a\rb\n\r\r\n\rc\n"), ["a\rb", "\r", "\rc"], false),
        ["line: NUL is data"] = (FramingMode.Line, B("a\0b\n\0\n"), ["a\0b", "\0"], false),
        ["line: non-ASCII bytes"] = (FramingMode.Line, [0xE4, 0xBD, 0xA0, 0x0D, 0x0A, 0xFF, 0x0A], ["\u00e4\u00bd\u00a0", "\u00ff"], false),
        ["line: tail with CR"] = (FramingMode.Line, B("ab\ncd\r"), ["ab", "cd"], false),
        ["line: one-byte tail"] = (FramingMode.Line, B("ab\nc"), ["ab", "c"], false),
        ["line: tail of a lone CR"] = (FramingMode.Line, B("ab\n\r"), ["ab", ""], false),
        ["line: message of exactly the limit"] = (FramingMode.Line, B("12345678\n"), ["12345678"], false),
        ["line: message of exactly the limit with CRLF"] = (FramingMode.Line, B("x\n12345678\r\ny\r\n"), ["x", "12345678", "y"], false),
        ["line: tail of exactly the limit with CR"] = (FramingMode.Line, B("x\n12345678\r"), ["x", "12345678"], false),
        ["line: message one over the limit"] = (FramingMode.Line, B("x\n123456789\ny\n"), ["x"], true),
        ["line: message one over the limit with CRLF"] = (FramingMode.Line, B("x\n123456789\r\ny\n"), ["x"], true),
        ["line: message of limit bytes then CR CR LF"] = (FramingMode.Line, B("12345678\r\r\n"), [], true),
        ["line: tail one over the limit"] = (FramingMode.Line, B("x\n123456789"), ["x"], true),
        ["line: long line, no terminator"] = (FramingMode.Line, B("x\n123456789abcdefghijklmnop"), ["x"], true),
    };

    public static TheoryData<string> Streams => new(s_streams.Keys);

    [Theory]
    [MemberData(nameof(Streams))]
    public void ReferenceSplitterAgreesWithTheWrittenDownExpectation(string name)
    {
        var (mode, input, expected, tooLong) = s_streams[name];
        var reference = FramerHarness.Reference(input, mode, Limit);
        Assert.Equal(expected, reference.Messages.Select(Latin1));
        Assert.Equal(tooLong, reference.TooLong);
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void SpanReaderFindsTheSameMessagesWhereverTheStreamIsCut(string name)
    {
        var (mode, input, _, _) = s_streams[name];
        var expected = FramerHarness.Reference(input, mode, Limit);
        var framer = new MessageFramer(mode, Limit);
        foreach (var chunks in FramerHarness.AllCuts(input))
        {
            var actual = FramerHarness.FeedSpans(framer, chunks);
            Assert.True(expected.SameAs(actual), $"cut into {Describe(chunks)}: expected {expected}, got {actual}");
        }
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void SequenceReaderFindsTheSameMessagesWhereverTheStreamIsCut(string name)
    {
        var (mode, input, _, _) = s_streams[name];
        var expected = FramerHarness.Reference(input, mode, Limit);
        var framer = new MessageFramer(mode, Limit);
        foreach (var chunks in FramerHarness.AllCuts(input))
        {
            foreach (bool withEmptySegments in new[] { false, true })
            {
                var actual = FramerHarness.FeedSequences(framer, chunks, withEmptySegments);
                Assert.True(expected.SameAs(actual), $"cut into {Describe(chunks)} (empty segments: {withEmptySegments}): expected {expected}, got {actual}");
            }
        }
    }

    [Fact]
    public void LongInputIsSplitAtEveryPositionWithADefaultLimit()
    {
        // Longer than the pair-splitting threshold: every single cut, and cuts that put a CR and its LF apart.
        byte[] input = B(string.Concat(Enumerable.Range(0, 20).Select(i => new string((char)('a' + i), i) + (i % 3 == 0 ? "\r\n" : "\n"))));
        var expected = FramerHarness.Reference(input, FramingMode.Line, MessageFramer.DefaultMaxMessageBytes);
        Assert.Equal(20, expected.Messages.Count);
        Assert.False(expected.TooLong);
        var framer = new MessageFramer(FramingMode.Line);
        foreach (var chunks in FramerHarness.AllCuts(input, pairsUpTo: 0))
        {
            Assert.True(expected.SameAs(FramerHarness.FeedSpans(framer, chunks)), Describe(chunks));
            Assert.True(expected.SameAs(FramerHarness.FeedSequences(framer, chunks)), Describe(chunks));
        }
    }

    [Theory]
    [InlineData(FramingMode.Nul, "one\0two\0\0three\0rest", new[] { "one", "two", "", "three" }, "rest")]
    [InlineData(FramingMode.Line, "one\r\ntwo\n\nthree\r\nrest\r", new[] { "one", "two", "", "three" }, "rest\r")]
    public void SeveralMessagesInOneBufferAreReadOneAfterAnother(FramingMode mode, string text, string[] expected, string rest)
    {
        var framer = new MessageFramer(mode);
        byte[] buffer = B(text);
        int start = 0;
        var messages = new List<string>();
        while (framer.TryReadMessage(buffer.AsSpan(start), out int length, out int frame))
        {
            messages.Add(Latin1(buffer.AsSpan(start, length)));
            start += frame;
        }

        Assert.Equal(expected, messages);
        Assert.Equal(rest, Latin1(buffer.AsSpan(start)));

        var sequence = Segments.Chain(buffer, 2, 5, 1, 7);
        messages.Clear();
        while (framer.TryReadMessage(ref sequence, out var message))
        {
            messages.Add(Latin1(message.ToArray()));
        }

        Assert.Equal(expected, messages);
        Assert.Equal(rest, Latin1(sequence.ToArray()));
    }

    [Fact]
    public void MessageThatSpansSegmentsIsSlicedWithoutCopyingTheRest()
    {
        var framer = new MessageFramer(FramingMode.Line);
        var buffer = Segments.Chain(B("ab\rcd\r\nef\r"), 1, 1, 1, 2, 1);
        Assert.True(framer.TryReadMessage(ref buffer, out var message));
        Assert.False(message.IsSingleSegment);
        Assert.Equal("ab\rcd", Latin1(message.ToArray()));
        Assert.Equal("ef\r", Latin1(buffer.ToArray()));
        Assert.False(framer.TryReadMessage(ref buffer, out _));
        Assert.Equal("ef\r", Latin1(buffer.ToArray()));
    }

    [Fact]
    public void OneByteMessageThatStartsOnASegmentBoundaryIsRead()
    {
        // Regression: the line-mode CR check read FirstSpan[0] of the last byte's slice, which is empty when a
        // one-byte final message starts on an empty segment (as after consuming up to a segment's end).
        var framer = new MessageFramer(FramingMode.Line, Limit);
        var tail = Segments.Chain([ReadOnlyMemory<byte>.Empty, B("\r")]);
        Assert.True(framer.TryReadFinalMessage(ref tail, out var final));
        Assert.Equal("", Latin1(final.ToArray()));

        tail = Segments.Chain([ReadOnlyMemory<byte>.Empty, B("e")]);
        Assert.True(framer.TryReadFinalMessage(ref tail, out final));
        Assert.Equal("e", Latin1(final.ToArray()));

        var buffer = Segments.Chain([B("ab\n"), B("c\n"), B("\r\n")]);
        string[] expected = ["ab", "c", ""];
        foreach (string message in expected)
        {
            Assert.True(framer.TryReadMessage(ref buffer, out var read));
            Assert.Equal(message, Latin1(read.ToArray()));
        }

        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void NeedingMoreBytesReturnsFalseAndConsumesNothing()
    {
        var framer = new MessageFramer(FramingMode.Nul, Limit);
        Assert.False(framer.TryReadMessage(B("12345678"), out int length, out int frame));
        Assert.Equal(0, length);
        Assert.Equal(0, frame);
        Assert.False(framer.TryReadMessage(ReadOnlySpan<byte>.Empty, out _, out _));

        var sequence = Segments.Chain(B("12345678"), 3);
        Assert.False(framer.TryReadMessage(ref sequence, out _));
        Assert.Equal("12345678", Latin1(sequence.ToArray()));
    }

    [Theory]
    [InlineData(FramingMode.Nul, "12345678\0")]
    [InlineData(FramingMode.Line, "12345678\n")]
    [InlineData(FramingMode.Line, "12345678\r\n")]
    public void MessageOfExactlyTheLimitIsAccepted(FramingMode mode, string frame)
    {
        var framer = new MessageFramer(mode, Limit);
        Assert.True(framer.TryReadMessage(B(frame), out int length, out int frameLength));
        Assert.Equal(Limit, length);
        Assert.Equal(frame.Length, frameLength);

        var sequence = Segments.Chain(B(frame), 4);
        Assert.True(framer.TryReadMessage(ref sequence, out var message));
        Assert.Equal("12345678", Latin1(message.ToArray()));
        Assert.True(sequence.IsEmpty);
    }

    [Theory]
    [InlineData(FramingMode.Nul, "123456789\0")]   // with the terminator
    [InlineData(FramingMode.Nul, "123456789")]     // without: the ninth byte is not a terminator
    [InlineData(FramingMode.Line, "123456789\n")]
    [InlineData(FramingMode.Line, "123456789\r\n")]
    [InlineData(FramingMode.Line, "12345678\r\r\n")]
    [InlineData(FramingMode.Line, "123456789\r")]  // without: limit + 2 bytes and no LF
    [InlineData(FramingMode.Line, "1234567890")]
    public void MessageOneByteOverTheLimitThrowsNamingTheLimit(FramingMode mode, string input)
    {
        var framer = new MessageFramer(mode, Limit);
        var error = Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(B(input), out _, out _));
        Assert.Equal(Limit, error.Limit);
        Assert.StartsWith("message longer than 8 bytes (the limit); it starts \"12345678", error.Message, StringComparison.Ordinal);

        var sequence = Segments.Chain(B(input), 1, 3);
        error = Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(ref sequence, out _));
        Assert.Equal(Limit, error.Limit);
        Assert.StartsWith("message longer than 8 bytes (the limit); it starts \"12345678", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TooLongMessageIsQuotedExactly()
    {
        var framer = new MessageFramer(FramingMode.Nul, Limit);
        var error = Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(B("1234\t678\u00e9"), out _, out _));
        Assert.Equal("message longer than 8 bytes (the limit); it starts \"1234\\t678\\xe9\"", error.Message);
        Assert.IsAssignableFrom<ProtocolException>(error);
    }

    [Theory]
    [InlineData(FramingMode.Line, "123456789")]  // the ninth byte might still be the CR of a CRLF
    [InlineData(FramingMode.Line, "12345678\r")]
    public void LineModeWaitsForTheByteAfterAPossibleCarriageReturn(FramingMode mode, string input)
    {
        // Documents the current choice: in line mode the framer throws once limit + 2 bytes hold no LF.
        var framer = new MessageFramer(mode, Limit);
        Assert.False(framer.TryReadMessage(B(input), out _, out _));
        Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(B(input + "x"), out _, out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TooLongMessageQuotesAtMostEightyBytes(bool sequence)
    {
        var framer = new MessageFramer(FramingMode.Nul, 100);
        byte[] input = B(new string('a', 60) + new string('b', 60) + "\0");
        var error = sequence
            ? Assert.Throws<MessageTooLongException>(() =>
            {
                var buffer = Segments.Chain(input, 50, 50);
                framer.TryReadMessage(ref buffer, out _);
            })
            : Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(input, out _, out _));
        Assert.Equal($"message longer than 100 bytes (the limit); it starts \"{new string('a', 60)}{new string('b', 20)}\"...", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TooLongMessageOfEightyBytesIsQuotedWhole(bool sequence)
    {
        var framer = new MessageFramer(FramingMode.Nul, 79);
        byte[] input = B(new string('z', 80));
        var error = sequence
            ? Assert.Throws<MessageTooLongException>(() =>
            {
                var buffer = Segments.Chain(input, 40);
                framer.TryReadMessage(ref buffer, out _);
            })
            : Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(input, out _, out _));
        Assert.Equal($"message longer than 79 bytes (the limit); it starts \"{new string('z', 80)}\"", error.Message);
    }

    [Fact]
    public void HugeBufferWithoutTerminatorThrowsWithoutLookingPastTheFirstFrame()
    {
        var framer = new MessageFramer(FramingMode.Nul, Limit);
        byte[] input = [.. B("123456789"), 0];
        Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(input, out _, out _));

        // A terminator after the window does not rescue an over-long first message.
        byte[] big = [.. new byte[1000].Select(_ => (byte)'a'), 0];
        Assert.Throws<MessageTooLongException>(() => framer.TryReadMessage(big, out _, out _));
    }

    [Theory]
    [InlineData(FramingMode.Nul, "abc", "abc")]
    [InlineData(FramingMode.Nul, "abc\r", "abc\r")]
    [InlineData(FramingMode.Nul, "\r", "\r")]
    [InlineData(FramingMode.Line, "abc", "abc")]
    [InlineData(FramingMode.Line, "abc\r", "abc")]
    [InlineData(FramingMode.Line, "a\rc", "a\rc")]
    [InlineData(FramingMode.Line, "\r", "")]
    [InlineData(FramingMode.Line, "12345678\r", "12345678")]
    public void NonEmptyTailAtEndOfStreamIsAFinalMessage(FramingMode mode, string tail, string expected)
    {
        var framer = new MessageFramer(mode, Limit);
        Assert.True(framer.TryReadFinalMessage(B(tail), out int length));
        Assert.Equal(expected, Latin1(B(tail).AsSpan(0, length)));

        var buffer = Segments.Chain(B(tail), tail.Length / 2);
        Assert.True(framer.TryReadFinalMessage(ref buffer, out var message));
        Assert.Equal(expected, Latin1(message.ToArray()));
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [InlineData(FramingMode.Nul)]
    [InlineData(FramingMode.Line)]
    public void EmptyTailAtEndOfStreamIsNoMessage(FramingMode mode)
    {
        var framer = new MessageFramer(mode, Limit);
        Assert.False(framer.TryReadFinalMessage(ReadOnlySpan<byte>.Empty, out int length));
        Assert.Equal(0, length);
        var buffer = ReadOnlySequence<byte>.Empty;
        Assert.False(framer.TryReadFinalMessage(ref buffer, out var message));
        Assert.True(message.IsEmpty);
    }

    [Theory]
    [InlineData(FramingMode.Nul, "123456789")]
    [InlineData(FramingMode.Line, "123456789")]
    [InlineData(FramingMode.Line, "123456789\r")]
    public void TailLongerThanTheLimitThrows(FramingMode mode, string tail)
    {
        var framer = new MessageFramer(mode, Limit);
        var error = Assert.Throws<MessageTooLongException>(() => framer.TryReadFinalMessage(B(tail), out _));
        Assert.Equal(Limit, error.Limit);
        var buffer = Segments.Chain(B(tail), 3);
        Assert.Throws<MessageTooLongException>(() => framer.TryReadFinalMessage(ref buffer, out _));
    }

    [Theory]
    [InlineData(FramingMode.Nul, "")]
    [InlineData(FramingMode.Nul, "12345678")]
    [InlineData(FramingMode.Nul, "a\nb\r")]
    [InlineData(FramingMode.Line, "")]
    [InlineData(FramingMode.Line, "12345678")]
    [InlineData(FramingMode.Line, "a\0b\rc")]
    [InlineData(FramingMode.Line, "\ra")]
    public void CanCarryAcceptsWhatTheFramingCanDeliverUnchanged(FramingMode mode, string payload)
    {
        var framer = new MessageFramer(mode, Limit);
        Assert.True(framer.CanCarry(B(payload), out string? reason));
        Assert.Null(reason);
    }

    [Theory]
    [InlineData(FramingMode.Nul, "123456789", "message is 9 bytes, longer than the limit of 8")]
    [InlineData(FramingMode.Line, "123456789", "message is 9 bytes, longer than the limit of 8")]
    [InlineData(FramingMode.Nul, "a\0b", "message contains a NUL byte, which NUL framing cannot carry")]
    [InlineData(FramingMode.Nul, "\0", "message contains a NUL byte, which NUL framing cannot carry")]
    [InlineData(FramingMode.Line, "a\nb", "message contains a line feed, which line framing cannot carry")]
    [InlineData(FramingMode.Line, "ab\r", "message ends with a carriage return, which line framing drops")]
    [InlineData(FramingMode.Line, "\r", "message ends with a carriage return, which line framing drops")]
    public void CanCarryRefusesWithTheReason(FramingMode mode, string payload, string expected)
    {
        var framer = new MessageFramer(mode, Limit);
        Assert.False(framer.CanCarry(B(payload), out string? reason));
        Assert.Equal(expected, reason);
    }

    [Theory]
    [InlineData(FramingMode.Nul, "hi", new byte[] { 0x68, 0x69, 0x00 })]
    [InlineData(FramingMode.Nul, "", new byte[] { 0x00 })]
    [InlineData(FramingMode.Line, "hi", new byte[] { 0x68, 0x69, 0x0A })]
    [InlineData(FramingMode.Line, "", new byte[] { 0x0A })]
    public void WriteFrameAppendsTheTerminator(FramingMode mode, string payload, byte[] expected)
    {
        var framer = new MessageFramer(mode);
        var output = new ArrayBufferWriter<byte>();
        output.Write("<"u8);
        framer.WriteFrame(B(payload), output);
        byte[] want = [(byte)'<', .. expected];
        Assert.Equal(want, output.WrittenSpan.ToArray());
        Assert.Throws<ArgumentNullException>("output", () => framer.WriteFrame(B(payload), null!));
    }

    [Fact]
    public void WrittenFramesReadBackAsTheSameMessages()
    {
        foreach (var mode in new[] { FramingMode.Nul, FramingMode.Line })
        {
            var framer = new MessageFramer(mode, Limit);
            var output = new ArrayBufferWriter<byte>();
            string[] messages = ["", "a", "a\rb", "12345678", "\u00e9\u00ff"];
            foreach (string message in messages)
            {
                Assert.True(framer.CanCarry(B(message), out _));
                framer.WriteFrame(B(message), output);
            }

            var result = FramerHarness.FeedSpans(framer, [output.WrittenSpan.ToArray()]);
            Assert.Equal(messages, result.Messages.Select(Latin1));
        }
    }

    [Theory]
    [InlineData(FramingMode.Nul, 1, 2, 0x00)]
    [InlineData(FramingMode.Line, 1, 3, 0x0A)]
    [InlineData(FramingMode.Nul, MessageFramer.MaxAllowedMessageBytes, MessageFramer.MaxAllowedMessageBytes + 1, 0x00)]
    [InlineData(FramingMode.Line, MessageFramer.DefaultMaxMessageBytes, MessageFramer.DefaultMaxMessageBytes + 2, 0x0A)]
    public void ConstructorAcceptsLimitsFromOneToOneGibibyte(FramingMode mode, int limit, int maxFrame, byte terminator)
    {
        var framer = new MessageFramer(mode, limit);
        Assert.Equal(mode, framer.Mode);
        Assert.Equal(limit, framer.MaxMessageBytes);
        Assert.Equal(maxFrame, framer.MaxFrameBytes);
        Assert.Equal(terminator, framer.TerminatorByte);
    }

    [Fact]
    public void ConstructorDefaultsToNulAnd64KiB()
    {
        var framer = new MessageFramer();
        Assert.Equal(FramingMode.Nul, framer.Mode);
        Assert.Equal(65536, framer.MaxMessageBytes);
        Assert.Equal(65537, framer.MaxFrameBytes);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData(MessageFramer.MaxAllowedMessageBytes + 1)]
    [InlineData(int.MaxValue)]
    public void ConstructorRefusesLimitsOutOfRange(int limit)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MessageFramer(FramingMode.Nul, limit));
        Assert.Equal("maxMessageBytes", error.ParamName);
    }

    [Theory]
    [InlineData(5)] // 2 to 4 are the length-prefixed framings now
    [InlineData(-1)]
    public void ConstructorRefusesUnknownFraming(int mode)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MessageFramer((FramingMode)mode));
        Assert.Equal("mode", error.ParamName);
        Assert.StartsWith("framing must be nul, line, octet, u16be or u32be", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nul", FramingMode.Nul)]
    [InlineData(" NUL ", FramingMode.Nul)]
    [InlineData("line", FramingMode.Line)]
    [InlineData("LF", FramingMode.Line)]
    public void FramingNamesParse(string text, FramingMode expected)
    {
        Assert.True(FramingModeNames.TryParse(text, out var mode));
        Assert.Equal(expected, mode);
        Assert.Equal(expected == FramingMode.Nul ? "nul" : "line", mode.ToName());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("crlf")]
    [InlineData("0")]
    public void UnknownFramingNamesAreRefused(string? text)
    {
        Assert.False(FramingModeNames.TryParse(text, out _));
    }

    internal static byte[] B(string text) => Encoding.Latin1.GetBytes(text);

    internal static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    internal static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    private static string Describe(List<byte[]> chunks) => string.Join(" | ", chunks.Select(c => Convert.ToHexString(c)));
}
