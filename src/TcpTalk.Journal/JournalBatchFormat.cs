using System.Buffers.Binary;

namespace TcpTalk.Journal;

/// <summary>
/// How one row of the <c>batches</c> table (schema 2) holds the messages of one read: <c>lengths</c> is each
/// message's byte count as an unsigned LEB128 varint, in order; <c>raw</c> is the messages' bytes back to back;
/// <c>crc</c> is the CRC-32C of the row's header (first id, count, receive time, connection ref, each 8-byte little
/// endian) followed by <c>lengths</c> and <c>raw</c>. docs/JOURNAL.md, "Format", has it byte by byte.
/// </summary>
public static class JournalBatchFormat
{
    /// <summary>The most messages one row may hold (a read of 16 MiB of empty messages stays far below).</summary>
    public const int MaxCount = 1 << 24;

    /// <summary>
    /// The checksum of a row: CRC-32C over first id, count, receive time and connection ref (8 bytes little-endian
    /// each), then <paramref name="lengths"/>, then <paramref name="raw"/>.
    /// </summary>
    public static uint Checksum(long firstId, long count, long receivedMicros, long connectionRef, ReadOnlySpan<byte> lengths, ReadOnlySpan<byte> raw)
    {
        Span<byte> header = stackalloc byte[32];
        BinaryPrimitives.WriteInt64LittleEndian(header, firstId);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], count);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], receivedMicros);
        BinaryPrimitives.WriteInt64LittleEndian(header[24..], connectionRef);
        uint crc = Crc32C.Append(Crc32C.Initial, header);
        crc = Crc32C.Append(crc, lengths);
        return Crc32C.Finish(Crc32C.Append(crc, raw));
    }

    /// <summary>Writes <paramref name="value"/> as an unsigned LEB128 varint (1 to 5 bytes); returns the bytes written.</summary>
    public static int WriteVarint(Span<byte> destination, uint value)
    {
        int n = 0;
        while (value >= 0x80)
        {
            destination[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[n++] = (byte)value;
        return n;
    }

    /// <summary>
    /// Splits a row's <paramref name="rawLength"/> raw bytes into its <paramref name="count"/> messages using
    /// <paramref name="lengths"/>, filling <paramref name="ranges"/> (which must hold <paramref name="count"/>
    /// entries). Returns null when the row is well formed, or one sentence saying what is wrong: a varint that runs
    /// past the end or past 32 bits, lengths that do not add up to <paramref name="rawLength"/>, a count out of range.
    /// Never throws for any input.
    /// </summary>
    public static string? TrySplit(long count, ReadOnlySpan<byte> lengths, int rawLength, Span<(int Start, int Length)> ranges)
    {
        if (count < 1 || count > MaxCount || count > ranges.Length)
        {
            return $"count {count} is out of range";
        }

        int at = 0;
        long start = 0;
        for (int i = 0; i < count; i++)
        {
            uint value = 0;
            int shift = 0;
            while (true)
            {
                if (at >= lengths.Length)
                {
                    return $"the lengths end after {i} of {count} messages";
                }

                byte b = lengths[at++];
                if (shift == 28 && b > 0x0F)
                {
                    return $"the length of message {i + 1} does not fit 32 bits";
                }

                value |= (uint)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    break;
                }

                shift += 7;
            }

            if (start + value > rawLength)
            {
                return $"message {i + 1} ends past the row's {rawLength} bytes";
            }

            ranges[i] = ((int)start, (int)value);
            start += value;
        }

        if (at != lengths.Length || start != rawLength)
        {
            return $"the lengths cover {start} of {rawLength} bytes and {at} of {lengths.Length} length bytes";
        }

        return null;
    }
}
