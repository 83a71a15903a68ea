using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace TcpTalk.Protocol;

/// <summary>
/// Reads and writes the length headers of the length-prefixed framings (<see cref="FramingMode.Octet"/>,
/// <see cref="FramingMode.U16BE"/>, <see cref="FramingMode.U32BE"/>). Decides from the header alone, so a frame that
/// can never be accepted is refused before its body arrives and nothing past one frame is ever buffered.
/// </summary>
internal static class LengthPrefix
{
    /// <summary>The longest header: ten digits (lengths reach 1 GiB) and the space.</summary>
    public const int MaxHeaderBytes = 11;

    /// <summary>The number of decimal digits of <paramref name="value"/> (at least 1).</summary>
    public static int Digits(int value) => value.ToString(CultureInfo.InvariantCulture).Length;

    /// <summary>The most header bytes a message of at most <paramref name="limit"/> bytes needs in <paramref name="mode"/>.</summary>
    public static int MaxHeaderLength(FramingMode mode, int limit) => mode switch
    {
        FramingMode.U16BE => 2,
        FramingMode.U32BE => 4,
        _ => Digits(limit) + 1,
    };

    /// <summary>The header bytes a message of <paramref name="payloadLength"/> bytes takes.</summary>
    public static int HeaderLength(FramingMode mode, int payloadLength) => mode switch
    {
        FramingMode.U16BE => 2,
        FramingMode.U32BE => 4,
        _ => Digits(payloadLength) + 1,
    };

    /// <summary>Writes the header for <paramref name="payloadLength"/> bytes; returns its length.</summary>
    public static int Write(FramingMode mode, int payloadLength, Span<byte> destination)
    {
        switch (mode)
        {
            case FramingMode.U16BE:
                BinaryPrimitives.WriteUInt16BigEndian(destination, checked((ushort)payloadLength));
                return 2;
            case FramingMode.U32BE:
                BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)payloadLength);
                return 4;
            default:
                payloadLength.TryFormat(destination, out int digits, provider: CultureInfo.InvariantCulture);
                destination[digits] = (byte)' ';
                return digits + 1;
        }
    }

    /// <summary>
    /// Reads the header at the start of <paramref name="head"/>. Returns false, without throwing, when it is not
    /// complete yet; <paramref name="head"/> needs to hold no more than <see cref="MaxHeaderLength"/> bytes.
    /// </summary>
    /// <exception cref="MessageTooLongException">The header announces more than <paramref name="limit"/> bytes.</exception>
    /// <exception cref="MalformedFrameException">An octet-counted header is not a length without leading zero and a space.</exception>
    public static bool TryRead(FramingMode mode, ReadOnlySpan<byte> head, int limit, out int headerLength, out int messageLength)
    {
        headerLength = messageLength = 0;
        long announced;
        switch (mode)
        {
            case FramingMode.U16BE:
                if (head.Length < 2)
                {
                    return false;
                }

                headerLength = 2;
                announced = BinaryPrimitives.ReadUInt16BigEndian(head);
                break;
            case FramingMode.U32BE:
                if (head.Length < 4)
                {
                    return false;
                }

                headerLength = 4;
                announced = BinaryPrimitives.ReadUInt32BigEndian(head);
                break;
            default:
                if (!TryReadOctet(head, limit, out headerLength, out announced))
                {
                    return false;
                }

                break;
        }

        if (announced > limit)
        {
            throw new MessageTooLongException(limit, announced, head[..headerLength]);
        }

        messageLength = (int)announced;
        return true;
    }

    /// <summary>Sequence form of <see cref="TryRead(FramingMode, ReadOnlySpan{byte}, int, out int, out int)"/>.</summary>
    public static bool TryRead(FramingMode mode, in ReadOnlySequence<byte> buffer, int limit, out int headerLength, out int messageLength)
    {
        Span<byte> head = stackalloc byte[MaxHeaderBytes];
        int have = (int)Math.Min(buffer.Length, MaxHeaderLength(mode, limit));
        buffer.Slice(0, have).CopyTo(head);
        return TryRead(mode, head[..have], limit, out headerLength, out messageLength);
    }

    private static bool TryReadOctet(ReadOnlySpan<byte> head, int limit, out int headerLength, out long announced)
    {
        // RFC 6587: MSG-LEN = NONZERO-DIGIT *DIGIT, then one SP. A run longer than the limit's digits cannot fit.
        int maxDigits = Digits(limit);
        announced = 0;
        headerLength = 0;
        for (int i = 0; i < head.Length; i++)
        {
            byte b = head[i];
            if (b == (byte)' ' && i > 0)
            {
                headerLength = i + 1;
                return true;
            }

            if (b is < (byte)'0' or > (byte)'9')
            {
                throw MalformedFrameException.NotALength(head[..(i + 1)]);
            }

            if (i == 0 && b == (byte)'0')
            {
                throw MalformedFrameException.LeadingZero(head[..1]);
            }

            if (i == maxDigits)
            {
                throw MessageTooLongException.DigitRun(limit, head[..(i + 1)]);
            }

            announced = (announced * 10) + (b - '0');
        }

        return false;
    }
}
