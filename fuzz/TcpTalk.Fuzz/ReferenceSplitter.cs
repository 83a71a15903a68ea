using TcpTalk.Protocol;

namespace TcpTalk.Fuzz;

/// <summary>What splitting a stream produced: the messages in order, then whether a too-long message stopped it.</summary>
public sealed record Split(IReadOnlyList<byte[]> Messages, bool TooLong)
{
    /// <summary>Same messages, byte for byte, and the same ending.</summary>
    public bool SameAs(Split other) =>
        TooLong == other.TooLong
        && Messages.Count == other.Messages.Count
        && Messages.Zip(other.Messages).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second));

    /// <inheritdoc />
    public override string ToString() =>
        $"[{string.Join(", ", Messages.Select(m => Convert.ToHexString(m)))}]{(TooLong ? " then too long" : "")}";
}

/// <summary>
/// The framing rules written as plainly as possible, one byte at a time, for the fuzz targets to compare against:
/// a terminator ends a message; in line framing one CR right before the LF is dropped; an unterminated tail at the end
/// is a final message; a message longer than the limit ends the stream.
/// </summary>
public static class ReferenceSplitter
{
    /// <summary>Splits the whole of <paramref name="stream"/> the way a connection with this framing must.</summary>
    public static Split Split(ReadOnlySpan<byte> stream, FramingMode mode, int limit)
    {
        byte terminator = mode == FramingMode.Nul ? (byte)0 : (byte)'\n';
        var messages = new List<byte[]>();
        var current = new List<byte>();
        foreach (byte b in stream)
        {
            if (b != terminator)
            {
                current.Add(b);
                continue;
            }

            if (!Take(current, mode, limit, messages))
            {
                return new Split(messages, TooLong: true);
            }
        }

        bool fits = current.Count == 0 || Take(current, mode, limit, messages);
        return new Split(messages, TooLong: !fits);
    }

    private static bool Take(List<byte> current, FramingMode mode, int limit, List<byte[]> messages)
    {
        if (mode == FramingMode.Line && current.Count > 0 && current[^1] == (byte)'\r')
        {
            current.RemoveAt(current.Count - 1);
        }

        if (current.Count > limit)
        {
            return false;
        }

        messages.Add([.. current]);
        current.Clear();
        return true;
    }
}
