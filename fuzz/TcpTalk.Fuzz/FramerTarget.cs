using System.Buffers;
using TcpTalk.Protocol;

namespace TcpTalk.Fuzz;

/// <summary>
/// Fuzzes <see cref="MessageFramer"/>: the stream, cut into reads, goes through the span and the sequence readers the
/// way a connection drives them, and both must find exactly what <see cref="ReferenceSplitter"/> finds, throw nothing
/// but <see cref="MessageTooLongException"/> (and <see cref="MalformedFrameException"/> in the length-prefixed
/// framings), and never hold a frame's worth of bytes without either a message or that
/// exception. Every message the framer can carry must come back unchanged through <see cref="MessageFramer.WriteFrame"/>.
/// </summary>
internal static class FramerTarget
{
    public static void Run(byte[] data)
    {
        var input = new FuzzInput(data, countedFramings: true);
        var framer = input.CreateFramer();
        var chunks = input.Chunks();
        var expected = input.Reference();

        var spans = FramerFeeds.Spans(framer, chunks, data);
        InvariantViolationException.Check(spans.SameAs(expected),
            $"{input.Mode} limit {input.Limit}: span reader found {spans}, reference {expected}", data);
        var sequences = FramerFeeds.Sequences(framer, chunks, withEmptySegments: (input.CutSeed & 1) == 1, data);
        InvariantViolationException.Check(sequences.SameAs(expected),
            $"{input.Mode} limit {input.Limit}: sequence reader found {sequences}, reference {expected}", data);

        foreach (var message in expected.Messages)
        {
            CheckWriteReadsBack(framer, message, data);
        }
    }

    private static void CheckWriteReadsBack(MessageFramer framer, byte[] message, byte[] data)
    {
        if (!framer.CanCarry(message, out _))
        {
            return;
        }

        // The span form writes the same bytes, also with the payload already in place after the header room.
        var inPlace = new byte[message.Length + framer.MaxOverheadBytes + 8];
        message.CopyTo(inPlace.AsSpan(framer.MaxOverheadBytes));
        int written = framer.WriteFrameInto(inPlace.AsSpan(framer.MaxOverheadBytes, message.Length), inPlace);
        var expected = new ArrayBufferWriter<byte>();
        framer.WriteFrame(message, expected);
        InvariantViolationException.Check(inPlace.AsSpan(0, written).SequenceEqual(expected.WrittenSpan),
            $"writing a {message.Length}-byte frame in place differs from writing it to a buffer writer", data);

        var output = new ArrayBufferWriter<byte>();
        framer.WriteFrame(message, output);
        bool read = framer.TryReadMessage(output.WrittenSpan, out int start, out int length, out int frame);
        InvariantViolationException.Check(read && frame == output.WrittenCount && output.WrittenSpan.Slice(start, length).SequenceEqual(message),
            $"a carried message of {message.Length} bytes did not read back from its frame", data);
    }
}
