using System.Buffers;
using TcpTalk.Protocol;

namespace TcpTalk.Fuzz;

/// <summary>
/// Drives a <see cref="MessageFramer"/> over a stream cut into reads and checks, at every step, what must always
/// hold: a message within the limit and free of the terminator, a frame ending at the first terminator, fewer than
/// <see cref="MessageFramer.MaxFrameBytes"/> bytes held without a message, and no exception but
/// <see cref="MessageTooLongException"/> naming the limit (or, length-prefixed, <see cref="MalformedFrameException"/>).
/// In the length-prefixed framings a frame is its header, which must announce the message's length, and the message. A broken property throws <see cref="InvariantViolationException"/>.
/// Used by the fuzz targets and by the framer's unit tests.
/// </summary>
public static class FramerFeeds
{
    /// <summary>
    /// Feeds <paramref name="chunks"/> through the span overloads the way a connection does (append, read until false,
    /// keep the rest, final message at the end); <paramref name="data"/> is shown when a property breaks.
    /// </summary>
    public static Split Spans(MessageFramer framer, IEnumerable<byte[]> chunks, byte[]? data = null)
    {
        var messages = new List<byte[]>();
        var pending = new List<byte>();
        try
        {
            foreach (var chunk in chunks)
            {
                pending.AddRange(chunk);
                var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(pending);
                int consumed = 0;
                while (framer.TryReadMessage(span[consumed..], out int start, out int length, out int frame))
                {
                    CheckFrame(framer, span[consumed..], start, length, frame, data);
                    messages.Add(span.Slice(consumed + start, length).ToArray());
                    consumed += frame;
                }

                InvariantViolationException.Check(span.Length - consumed < framer.MaxFrameBytes,
                    $"span reader holds {span.Length - consumed} bytes without a message, the limit is {framer.MaxFrameBytes}", data);
                pending.RemoveRange(0, consumed);
            }

            if (framer.TryReadFinalMessage(pending.ToArray(), out int tail))
            {
                InvariantViolationException.Check(tail <= framer.MaxMessageBytes && tail >= pending.Count - 1,
                    $"final message of {tail} bytes from a tail of {pending.Count}", data);
                messages.Add(pending.GetRange(0, tail).ToArray());
            }
            else
            {
                InvariantViolationException.Check(pending.Count == 0, "a non-empty tail was not a final message", data);
            }
        }
        catch (MessageTooLongException e)
        {
            CheckTooLong(framer, e, data);
            return new Split(messages, TooLong: true);
        }
        catch (MalformedFrameException e)
        {
            CheckMalformed(framer, e, data);
            return new Split(messages, TooLong: false, Malformed: true);
        }

        return new Split(messages, TooLong: false);
    }

    /// <summary>
    /// Feeds <paramref name="chunks"/> through the sequence overloads: unconsumed bytes keep their segments and each
    /// chunk becomes a new one, so frames span segments wherever the chunks were cut.
    /// </summary>
    public static Split Sequences(MessageFramer framer, IEnumerable<byte[]> chunks, bool withEmptySegments = false, byte[]? data = null)
    {
        var messages = new List<byte[]>();
        var pending = ReadOnlySequence<byte>.Empty;
        try
        {
            foreach (var chunk in chunks)
            {
                // Unconsumed bytes keep their segments and each read adds one, as a PipeReader's buffer does.
                var parts = new List<ReadOnlyMemory<byte>>();
                foreach (var memory in pending)
                {
                    if (memory.IsEmpty)
                    {
                        continue; // one empty segment per boundary, not one more per read (that doubles)
                    }

                    parts.Add(memory);
                    if (withEmptySegments)
                    {
                        parts.Add(ReadOnlyMemory<byte>.Empty);
                    }
                }

                parts.Add(chunk);
                pending = ChainedSegment.Sequence(parts);
                while (framer.TryReadMessage(ref pending, out var message))
                {
                    InvariantViolationException.Check(message.Length <= framer.MaxMessageBytes
                        && (framer.Mode.IsLengthPrefixed() || message.PositionOf(framer.TerminatorByte) is null),
                        $"sequence reader returned a message of {message.Length} bytes, limit {framer.MaxMessageBytes}, or one holding the terminator", data);
                    messages.Add(message.ToArray());
                }

                InvariantViolationException.Check(pending.Length < framer.MaxFrameBytes,
                    $"sequence reader holds {pending.Length} bytes without a message, the limit is {framer.MaxFrameBytes}", data);
            }

            long before = pending.Length;
            if (framer.TryReadFinalMessage(ref pending, out var tail))
            {
                InvariantViolationException.Check(tail.Length <= framer.MaxMessageBytes && tail.Length >= before - 1 && pending.IsEmpty,
                    $"final message of {tail.Length} bytes from a tail of {before}", data);
                messages.Add(tail.ToArray());
            }
            else
            {
                InvariantViolationException.Check(pending.IsEmpty, "a non-empty tail was not a final message", data);
            }
        }
        catch (MessageTooLongException e)
        {
            CheckTooLong(framer, e, data);
            return new Split(messages, TooLong: true);
        }
        catch (MalformedFrameException e)
        {
            CheckMalformed(framer, e, data);
            return new Split(messages, TooLong: false, Malformed: true);
        }

        return new Split(messages, TooLong: false);
    }

    private static void CheckFrame(MessageFramer framer, ReadOnlySpan<byte> buffer, int start, int length, int frame, byte[]? data)
    {
        if (framer.Mode.IsLengthPrefixed())
        {
            CheckCountedFrame(framer, buffer, start, length, frame, data);
            return;
        }

        InvariantViolationException.Check(start == 0, $"a delimited frame's message starts at {start}", data);
        int most = length + (framer.Mode == FramingMode.Line ? 2 : 1);
        InvariantViolationException.Check(length >= 0 && length <= framer.MaxMessageBytes && frame > length && frame <= most && frame <= buffer.Length,
            $"span reader returned message {length} / frame {frame} bytes from {buffer.Length}, limit {framer.MaxMessageBytes}", data);
        InvariantViolationException.Check(buffer[frame - 1] == framer.TerminatorByte && !buffer[..length].Contains(framer.TerminatorByte),
            "span reader's frame does not end at the first terminator", data);
    }

    private static void CheckCountedFrame(MessageFramer framer, ReadOnlySpan<byte> buffer, int start, int length, int frame, byte[]? data)
    {
        InvariantViolationException.Check(length >= 0 && length <= framer.MaxMessageBytes && start > 0 && start <= framer.MaxHeaderBytes
            && frame == start + length && frame <= buffer.Length,
            $"span reader returned header {start} / message {length} / frame {frame} bytes from {buffer.Length}, limit {framer.MaxMessageBytes}", data);
        long announced = framer.Mode switch
        {
            FramingMode.U16BE => System.Buffers.Binary.BinaryPrimitives.ReadUInt16BigEndian(buffer),
            FramingMode.U32BE => System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(buffer),
            _ => buffer[start - 1] == (byte)' ' && buffer[0] != (byte)'0'
                && System.Buffers.Text.Utf8Parser.TryParse(buffer[..(start - 1)], out long value, out int used) && used == start - 1 ? value : -1,
        };
        InvariantViolationException.Check(announced == length, $"header announces {announced} bytes, the reader returned {length}", data);
    }

    private static void CheckMalformed(MessageFramer framer, MalformedFrameException e, byte[]? data) =>
        InvariantViolationException.Check(framer.Mode.IsLengthPrefixed() && e.Message.Length <= 120 + 4 * ProtocolException.MaxQuotedBytes,
            $"malformed-frame error from {framer.Mode} framing in {e.Message.Length} characters", data);

    private static void CheckTooLong(MessageFramer framer, MessageTooLongException e, byte[]? data) =>
        InvariantViolationException.Check(e.Limit == framer.MaxMessageBytes && e.Message.Length <= 120 + 4 * ProtocolException.MaxQuotedBytes,
            $"too-long error names limit {e.Limit} (framer {framer.MaxMessageBytes}) in {e.Message.Length} characters", data);

}
