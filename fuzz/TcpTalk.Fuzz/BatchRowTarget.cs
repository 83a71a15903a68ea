using System.Buffers.Binary;
using TcpTalk.Journal;

namespace TcpTalk.Fuzz;

/// <summary>
/// Fuzzes the journal's record reader, <see cref="JournalBatchFormat"/>: what a reader makes of a batch row whose
/// bytes are damaged in any way. Input: a 2-byte little-endian message count, a 1-byte length of the lengths field,
/// the lengths, then the raw bytes. Splitting must never throw; a row it accepts must be cut into contiguous ranges
/// covering exactly the raw bytes; and the checksum must change when any one bit of the row changes.
/// </summary>
internal static class BatchRowTarget
{
    public static void Run(byte[] data)
    {
        if (data.Length < 3)
        {
            return;
        }

        int count = BinaryPrimitives.ReadUInt16LittleEndian(data);
        int lengthBytes = Math.Min(data[2], data.Length - 3);
        var lengths = data.AsSpan(3, lengthBytes);
        var raw = data.AsSpan(3 + lengthBytes);
        var ranges = new (int Start, int Length)[Math.Max(count, 1)];
        string? error = JournalBatchFormat.TrySplit(count, lengths, raw.Length, ranges);
        if (error is null)
        {
            int next = 0;
            for (int i = 0; i < count; i++)
            {
                InvariantViolationException.Check(ranges[i].Start == next && ranges[i].Length >= 0,
                    $"message {i + 1} at {ranges[i].Start} (+{ranges[i].Length}) does not follow the previous one at {next}", data);
                next += ranges[i].Length;
            }

            InvariantViolationException.Check(next == raw.Length, $"the messages cover {next} of {raw.Length} raw bytes", data);
        }
        else
        {
            InvariantViolationException.Check(error.Length > 0, "a refusal without a reason", data);
        }

        // CRC-32C finds every single-bit error: flip one bit, chosen by the input, anywhere in lengths or raw.
        uint crc = JournalBatchFormat.Checksum(1, count, 2, 3, lengths, raw);
        if (lengths.Length + raw.Length > 0)
        {
            byte[] copy = data[3..];
            int bit = (int)(crc % (uint)(copy.Length * 8));
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            uint flipped = JournalBatchFormat.Checksum(1, count, 2, 3, copy.AsSpan(0, lengthBytes), copy.AsSpan(lengthBytes));
            InvariantViolationException.Check(flipped != crc, $"flipping bit {bit} leaves the checksum {crc:x8} unchanged", data);
        }
    }
}
