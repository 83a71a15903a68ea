using System.Buffers;

namespace TcpTalk.Fuzz;

/// <summary>Builds a multi-segment <see cref="ReadOnlySequence{T}"/>, one segment per part, empty parts kept.</summary>
public sealed class ChainedSegment : ReadOnlySequenceSegment<byte>
{
    private ChainedSegment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    /// <summary>One segment per part, in order.</summary>
    public static ReadOnlySequence<byte> Sequence(IReadOnlyList<ReadOnlyMemory<byte>> parts)
    {
        if (parts.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new ChainedSegment(parts[0], 0);
        var last = first;
        foreach (var part in parts.Skip(1))
        {
            var next = new ChainedSegment(part, last.RunningIndex + last.Memory.Length);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
