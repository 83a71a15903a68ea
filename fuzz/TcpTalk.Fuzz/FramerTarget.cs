using System.Buffers;
using TcpTalk.Protocol;

namespace TcpTalk.Fuzz;

/// <summary>
/// Fuzzes <see cref="MessageFramer"/>: the stream, cut into reads, goes through the span and the sequence readers the
/// way a connection drives them, and both must find exactly what <see cref="ReferenceSplitter"/> finds, throw nothing
/// but <see cref="MessageTooLongException"/>, and never hold a frame's worth of bytes without either a message or that
/// exception. Every message the framer can carry must come back unchanged through <see cref="MessageFramer.WriteFrame"/>.
/// </summary>
internal static class FramerTarget
{
    public static void Run(byte[] data)
    {
        var input = new FuzzInput(data);
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

        var output = new ArrayBufferWriter<byte>();
        framer.WriteFrame(message, output);
        bool read = framer.TryReadMessage(output.WrittenSpan, out int length, out int frame);
        InvariantViolationException.Check(read && frame == output.WrittenCount && output.WrittenSpan[..length].SequenceEqual(message),
            $"a carried message of {message.Length} bytes did not read back from its frame", data);
    }
}
