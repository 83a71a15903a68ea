using System.Buffers;

namespace TcpTalk.Protocol.Tests;

/// <summary>What splitting a byte stream into messages produced: the messages, then whether a too-long one stopped it.</summary>
internal sealed record SplitResult(IReadOnlyList<byte[]> Messages, bool TooLong)
{
    public bool SameAs(SplitResult other) =>
        TooLong == other.TooLong
        && Messages.Count == other.Messages.Count
        && Messages.Zip(other.Messages).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second));

    public override string ToString() =>
        $"[{string.Join(", ", Messages.Select(m => Convert.ToHexString(m)))}]{(TooLong ? " then too long" : "")}";
}

/// <summary>
/// Drives a <see cref="MessageFramer"/> the way the server does (accumulate, read until false, keep the rest, final
/// message at EOF) and compares it with a deliberately naive reference splitter.
/// </summary>
internal static class FramerHarness
{
    /// <summary>The obvious splitter over the whole input: split at every terminator, drop a CR before LF, check the limit.</summary>
    public static SplitResult Reference(ReadOnlySpan<byte> input, FramingMode mode, int limit)
    {
        byte terminator = mode == FramingMode.Nul ? (byte)0 : (byte)'\n';
        var messages = new List<byte[]>();
        while (!input.IsEmpty)
        {
            int index = input.IndexOf(terminator);
            var body = index < 0 ? input : input[..index];
            if (mode == FramingMode.Line && body.Length > 0 && body[^1] == (byte)'\r')
            {
                body = body[..^1];
            }

            if (body.Length > limit)
            {
                return new SplitResult(messages, TooLong: true);
            }

            messages.Add(body.ToArray());
            input = index < 0 ? default : input[(index + 1)..];
        }

        return new SplitResult(messages, TooLong: false);
    }

    /// <summary>Feeds <paramref name="chunks"/> through the span overloads.</summary>
    public static SplitResult FeedSpans(MessageFramer framer, IEnumerable<byte[]> chunks)
    {
        var messages = new List<byte[]>();
        byte[] pending = [];
        try
        {
            foreach (var chunk in chunks)
            {
                pending = [.. pending, .. chunk];
                while (framer.TryReadMessage(pending, out int length, out int frame))
                {
                    Assert.InRange(length, 0, framer.MaxMessageBytes);
                    Assert.InRange(frame, length + 1, length + (framer.Mode == FramingMode.Line ? 2 : 1));
                    Assert.Equal(framer.TerminatorByte, pending[frame - 1]);
                    messages.Add(pending[..length]);
                    pending = pending[frame..];
                }
            }

            if (framer.TryReadFinalMessage(pending, out int tail))
            {
                Assert.InRange(tail, 0, framer.MaxMessageBytes);
                messages.Add(pending[..tail]);
            }
            else
            {
                Assert.Empty(pending);
            }
        }
        catch (MessageTooLongException e)
        {
            Assert.Equal(framer.MaxMessageBytes, e.Limit);
            return new SplitResult(messages, TooLong: true);
        }

        return new SplitResult(messages, TooLong: false);
    }

    /// <summary>
    /// Feeds <paramref name="chunks"/> through the sequence overloads. Unconsumed bytes keep their segment boundaries
    /// and each chunk becomes a new segment, so frames span segments wherever the chunks were cut.
    /// </summary>
    public static SplitResult FeedSequences(MessageFramer framer, IEnumerable<byte[]> chunks, bool withEmptySegments = false)
    {
        var messages = new List<byte[]>();
        var pending = ReadOnlySequence<byte>.Empty;
        try
        {
            foreach (var chunk in chunks)
            {
                var parts = new List<ReadOnlyMemory<byte>>();
                foreach (var memory in pending)
                {
                    parts.Add(memory);
                    if (withEmptySegments)
                    {
                        parts.Add(ReadOnlyMemory<byte>.Empty);
                    }
                }

                parts.Add(chunk);
                pending = Segments.Chain(parts);
                while (framer.TryReadMessage(ref pending, out var message))
                {
                    Assert.InRange(message.Length, 0, framer.MaxMessageBytes);
                    messages.Add(message.ToArray());
                }
            }

            long before = pending.Length;
            if (framer.TryReadFinalMessage(ref pending, out var tail))
            {
                Assert.InRange(tail.Length, 0, framer.MaxMessageBytes);
                Assert.InRange(tail.Length, before - 1, before);
                Assert.True(pending.IsEmpty);
                messages.Add(tail.ToArray());
            }
            else
            {
                Assert.True(pending.IsEmpty);
            }
        }
        catch (MessageTooLongException e)
        {
            Assert.Equal(framer.MaxMessageBytes, e.Limit);
            return new SplitResult(messages, TooLong: true);
        }

        return new SplitResult(messages, TooLong: false);
    }

    /// <summary>The input cut at the given ascending positions.</summary>
    public static List<byte[]> Cut(byte[] input, params int[] positions)
    {
        var chunks = new List<byte[]>(positions.Length + 1);
        int start = 0;
        foreach (int position in positions)
        {
            chunks.Add(input[start..position]);
            start = position;
        }

        chunks.Add(input[start..]);
        return chunks;
    }

    /// <summary>Every way to cut the input once, and twice when it is short (position 0 and the end included).</summary>
    public static IEnumerable<List<byte[]>> AllCuts(byte[] input, int pairsUpTo = 32)
    {
        for (int i = 0; i <= input.Length; i++)
        {
            yield return Cut(input, i);
        }

        if (input.Length <= pairsUpTo)
        {
            for (int i = 0; i <= input.Length; i++)
            {
                for (int j = i; j <= input.Length; j++)
                {
                    yield return Cut(input, i, j);
                }
            }
        }

        yield return input.Select(b => new[] { b }).ToList();
    }
}

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s from a chain of segments.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    /// <summary>One segment per part, in order; empty parts stay as empty segments.</summary>
    public static ReadOnlySequence<byte> Chain(IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        if (parts.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segments(parts[0], 0);
        var last = first;
        for (int i = 1; i < parts.Count; i++)
        {
            var next = new Segments(parts[i], last.RunningIndex + last.Memory.Length);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>The bytes split into segments of the given sizes (the rest in a last segment).</summary>
    public static ReadOnlySequence<byte> Chain(byte[] bytes, params int[] sizes)
    {
        var parts = new List<ReadOnlyMemory<byte>>();
        int start = 0;
        foreach (int size in sizes)
        {
            parts.Add(bytes.AsMemory(start, size));
            start += size;
        }

        parts.Add(bytes.AsMemory(start));
        return Chain(parts);
    }
}
