using System.Buffers;
using TcpTalk.Fuzz;

namespace TcpTalk.Protocol.Tests;

/// <summary>
/// Drives a <see cref="MessageFramer"/> the way the server does (accumulate, read until false, keep the rest, final
/// message at EOF) and compares it with a deliberately naive reference splitter. The feeders and the reference are
/// the fuzz project's (<see cref="FramerFeeds"/>, <see cref="ReferenceSplitter"/>), so the unit tests and the fuzzer
/// check the same properties; a broken one throws <see cref="InvariantViolationException"/>.
/// </summary>
internal static class FramerHarness
{
    /// <summary>The obvious splitter over the whole input: split at every terminator, drop a CR before LF, check the limit.</summary>
    public static Split Reference(ReadOnlySpan<byte> input, FramingMode mode, int limit) => ReferenceSplitter.Split(input, mode, limit);

    /// <summary>Feeds <paramref name="chunks"/> through the span overloads.</summary>
    public static Split FeedSpans(MessageFramer framer, IEnumerable<byte[]> chunks) => FramerFeeds.Spans(framer, chunks);

    /// <summary>Feeds <paramref name="chunks"/> through the sequence overloads, each chunk a new segment.</summary>
    public static Split FeedSequences(MessageFramer framer, IEnumerable<byte[]> chunks, bool withEmptySegments = false) =>
        FramerFeeds.Sequences(framer, chunks, withEmptySegments);

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

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s.</summary>
internal static class Segments
{
    /// <summary>One segment per part, in order; empty parts stay as empty segments.</summary>
    public static ReadOnlySequence<byte> Chain(IReadOnlyList<ReadOnlyMemory<byte>> parts) => ChainedSegment.Sequence(parts);

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
