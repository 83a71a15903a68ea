using System.Buffers.Binary;
using System.Numerics;

namespace TcpTalk.Journal;

/// <summary>
/// CRC-32C (Castagnoli, the checksum of iSCSI, ext4 and Kafka), computed with the CPU's instruction where it has one
/// (SSE4.2, ARMv8) through <see cref="BitOperations.Crc32C(uint, ulong)"/>.
/// </summary>
internal static class Crc32C
{
    /// <summary>The running state before any byte.</summary>
    public const uint Initial = 0xFFFFFFFF;

    /// <summary>Feeds <paramref name="data"/> into the running state <paramref name="crc"/>.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }

    /// <summary>The final checksum of a running state.</summary>
    public static uint Finish(uint crc) => ~crc;

    /// <summary>The checksum of <paramref name="data"/> alone.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Initial, data));
}
