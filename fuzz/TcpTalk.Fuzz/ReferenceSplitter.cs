using TcpTalk.Protocol;

namespace TcpTalk.Fuzz;

/// <summary>
/// What splitting a stream produced: the messages in order, then whether a too-long message or (length-prefixed
/// framings) a malformed or cut-short frame stopped it.
/// </summary>
public sealed record Split(IReadOnlyList<byte[]> Messages, bool TooLong, bool Malformed = false)
{
    /// <summary>Same messages, byte for byte, and the same ending.</summary>
    public bool SameAs(Split other) =>
        TooLong == other.TooLong
        && Malformed == other.Malformed
        && Messages.Count == other.Messages.Count
        && Messages.Zip(other.Messages).All(pair => pair.First.AsSpan().SequenceEqual(pair.Second));

    /// <inheritdoc />
    public override string ToString() =>
        $"[{string.Join(", ", Messages.Select(m => Convert.ToHexString(m)))}]{(TooLong ? " then too long" : "")}{(Malformed ? " then malformed" : "")}";
}

/// <summary>
/// The framing rules written as plainly as possible, one byte at a time, for the fuzz targets to compare against:
/// a terminator ends a message; in line framing one CR right before the LF is dropped; an unterminated tail at the end
/// is a final message; a message longer than the limit ends the stream. The length-prefixed framings the same way:
/// collect the header a byte at a time, judge each byte as it comes, then take that many bytes.
/// </summary>
public static class ReferenceSplitter
{
    /// <summary>Splits the whole of <paramref name="stream"/> the way a connection with this framing must.</summary>
    public static Split Split(ReadOnlySpan<byte> stream, FramingMode mode, int limit)
    {
        if (mode is FramingMode.Octet or FramingMode.U16BE or FramingMode.U32BE)
        {
            return SplitCounted(stream, mode, limit);
        }

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

    private static Split SplitCounted(ReadOnlySpan<byte> stream, FramingMode mode, int limit)
    {
        var messages = new List<byte[]>();
        if (mode == FramingMode.U16BE)
        {
            limit = Math.Min(limit, 65535);
        }

        int at = 0;
        while (at < stream.Length)
        {
            long length = 0;
            int digits = 0;
            if (mode == FramingMode.Octet)
            {
                int maxDigits = limit.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
                while (true)
                {
                    if (at == stream.Length)
                    {
                        return new Split(messages, TooLong: false, Malformed: true);
                    }

                    byte b = stream[at++];
                    if (b == ' ' && digits > 0)
                    {
                        break;
                    }

                    if (b < '0' || b > '9' || (digits == 0 && b == '0'))
                    {
                        return new Split(messages, TooLong: false, Malformed: true);
                    }

                    if (digits == maxDigits)
                    {
                        return new Split(messages, TooLong: true);
                    }

                    length = (length * 10) + (b - '0');
                    digits++;
                }
            }
            else
            {
                int size = mode == FramingMode.U16BE ? 2 : 4;
                for (int i = 0; i < size; i++)
                {
                    if (at == stream.Length)
                    {
                        return new Split(messages, TooLong: false, Malformed: true);
                    }

                    length = (length << 8) | stream[at++];
                }
            }

            if (length > limit)
            {
                return new Split(messages, TooLong: true);
            }

            if (stream.Length - at < length)
            {
                return new Split(messages, TooLong: false, Malformed: true);
            }

            messages.Add(stream.Slice(at, (int)length).ToArray());
            at += (int)length;
        }

        return new Split(messages, TooLong: false);
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
