using System.Buffers;

namespace TcpTalk.Protocol;

/// <summary>
/// Finds message boundaries in a byte stream and writes frames. A pure function over bytes: it never touches a
/// socket, never allocates on the read path, and enforces <see cref="MaxMessageBytes"/> itself.
/// </summary>
/// <remarks>
/// Decisions (docs/PROTOCOL.md has the full table):
/// in the delimited framings (<see cref="FramingMode.Nul"/>, <see cref="FramingMode.Line"/>) an empty message (a terminator right after the previous one) is a message of zero bytes;
/// in <see cref="FramingMode.Line"/> a CR directly before the LF is dropped and the limit counts the bytes before it;
/// a non-empty unterminated tail at a clean end of stream is a final message (<see cref="TryReadFinalMessage(ReadOnlySpan{byte}, out int)"/>).
/// In the length-prefixed framings (<see cref="FramingModeNames.IsLengthPrefixed"/>) the message follows its header,
/// so readers take it at <c>messageStart</c>; a header over the limit is refused before the body arrives; a zero
/// length is an empty message (u16be, u32be; octet counting has no zero); a non-empty tail at end of stream is a frame
/// cut short (<see cref="MalformedFrameException"/>).
/// </remarks>
public sealed class MessageFramer
{
    /// <summary>The default for <see cref="MaxMessageBytes"/>: 65536 bytes.</summary>
    public const int DefaultMaxMessageBytes = 64 * 1024;

    /// <summary>The most bytes any framing adds to a message of any length: an octet-counted header of ten digits and a space.</summary>
    public const int MaxFrameOverheadBytes = LengthPrefix.MaxHeaderBytes;

    /// <summary>The largest accepted value for <see cref="MaxMessageBytes"/>: 1 GiB.</summary>
    public const int MaxAllowedMessageBytes = 1 << 30;

    private readonly byte _terminator;
    private readonly bool _prefixed;

    /// <summary>Creates a framer for <paramref name="mode"/> that refuses messages longer than <paramref name="maxMessageBytes"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxMessageBytes"/> is below 1 or above 1 GiB.</exception>
    public MessageFramer(FramingMode mode = FramingMode.Nul, int maxMessageBytes = DefaultMaxMessageBytes)
    {
        if (mode is not (FramingMode.Nul or FramingMode.Line) && !mode.IsLengthPrefixed())
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "framing must be nul, line, octet, u16be or u32be");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxMessageBytes, MaxAllowedMessageBytes);
        Mode = mode;
        MaxMessageBytes = maxMessageBytes;
        _prefixed = mode.IsLengthPrefixed();
        if (_prefixed)
        {
            // u16be cannot announce more than 65535, whatever the limit says.
            MaxMessageBytes = mode == FramingMode.U16BE ? Math.Min(maxMessageBytes, ushort.MaxValue) : maxMessageBytes;
            MaxHeaderBytes = LengthPrefix.MaxHeaderLength(mode, MaxMessageBytes);
            MaxFrameBytes = MaxHeaderBytes + MaxMessageBytes;
        }
        else
        {
            _terminator = mode == FramingMode.Nul ? (byte)0 : (byte)'\n';
            MaxHeaderBytes = 0;
            MaxFrameBytes = maxMessageBytes + (mode == FramingMode.Line ? 2 : 1);
        }
    }

    /// <summary>The framing this framer reads and writes.</summary>
    public FramingMode Mode { get; }

    /// <summary>
    /// The longest message accepted, in bytes, terminator (and a dropped CR) or length header not counted. In
    /// <see cref="FramingMode.U16BE"/> at most 65535, the most its header can announce.
    /// </summary>
    public int MaxMessageBytes { get; }

    /// <summary>
    /// The most bytes one complete frame can occupy: the message, a CR in line mode, and the terminator; or the
    /// longest length header and the message.
    /// </summary>
    public int MaxFrameBytes { get; }

    /// <summary>The longest length header (0 in the delimited framings): 2, 4, or the limit's digits and a space.</summary>
    public int MaxHeaderBytes { get; }

    /// <summary>The most bytes <see cref="WriteFrameInto"/> adds to a message: header or terminator.</summary>
    public int MaxOverheadBytes => _prefixed ? MaxHeaderBytes : 1;

    /// <summary>The terminator byte: 0x00 or 0x0A.</summary>
    /// <exception cref="InvalidOperationException">The framing is length-prefixed and has no terminator.</exception>
    public byte TerminatorByte => _prefixed
        ? throw new InvalidOperationException($"{Mode.ToName()} framing has no terminator byte")
        : _terminator;

    /// <summary>
    /// Looks for one complete frame at the start of <paramref name="buffer"/>; the message is
    /// <c>buffer.Slice(messageStart, messageLength)</c>. Returns false, without throwing, when more bytes are needed.
    /// Works in every framing (<paramref name="messageStart"/> is 0 in the delimited ones).
    /// </summary>
    /// <param name="buffer">Received bytes not yet consumed.</param>
    /// <param name="messageStart">Where the message starts in <paramref name="buffer"/>: after the length header.</param>
    /// <param name="messageLength">The message's length in bytes, without header, terminator and dropped CR.</param>
    /// <param name="frameLength">How many bytes of <paramref name="buffer"/> the frame occupies (consume these).</param>
    /// <exception cref="MessageTooLongException">The message is over the limit: the connection cannot resynchronise.</exception>
    /// <exception cref="MalformedFrameException">An octet-counted header is not a length.</exception>
    public bool TryReadMessage(ReadOnlySpan<byte> buffer, out int messageStart, out int messageLength, out int frameLength)
    {
        if (!_prefixed)
        {
            messageStart = 0;
            return TryReadMessage(buffer, out messageLength, out frameLength);
        }

        var head = buffer.Length > MaxHeaderBytes ? buffer[..MaxHeaderBytes] : buffer;
        if (LengthPrefix.TryRead(Mode, head, MaxMessageBytes, out messageStart, out messageLength)
            && buffer.Length - messageStart >= messageLength)
        {
            frameLength = messageStart + messageLength;
            return true;
        }

        messageStart = messageLength = frameLength = 0;
        return false;
    }

    /// <summary>
    /// Looks for one complete message at the start of <paramref name="buffer"/>.
    /// Returns false, without throwing, when more bytes are needed.
    /// </summary>
    /// <param name="buffer">Received bytes not yet consumed.</param>
    /// <param name="messageLength">The message's length in bytes, without terminator and dropped CR.</param>
    /// <param name="frameLength">How many bytes of <paramref name="buffer"/> the frame occupies (consume these).</param>
    /// <exception cref="MessageTooLongException">No terminator within the limit: the connection cannot resynchronise.</exception>
    /// <exception cref="InvalidOperationException">The framing is length-prefixed: use the overload with <c>messageStart</c>.</exception>
    public bool TryReadMessage(ReadOnlySpan<byte> buffer, out int messageLength, out int frameLength)
    {
        if (_prefixed)
        {
            throw new InvalidOperationException($"{Mode.ToName()} framing puts a header before the message: call the overload with messageStart");
        }

        // Only the first MaxFrameBytes can hold a legal terminator, so a huge buffer is never scanned past that.
        var window = buffer.Length > MaxFrameBytes ? buffer[..MaxFrameBytes] : buffer;
        int index = window.IndexOf(_terminator);
        if (index < 0)
        {
            if (buffer.Length >= MaxFrameBytes)
            {
                throw new MessageTooLongException(MaxMessageBytes, window);
            }

            messageLength = frameLength = 0;
            return false;
        }

        frameLength = index + 1;
        messageLength = TrimmedLength(buffer[..index]);
        return true;
    }

    /// <summary>
    /// At a clean end of stream, returns the unterminated tail left in <paramref name="buffer"/> as a final message.
    /// Returns false when the tail is empty. Call only after <see cref="TryReadMessage(ReadOnlySpan{byte}, out int, out int)"/> returned false.
    /// </summary>
    /// <exception cref="MessageTooLongException">The tail is longer than the limit.</exception>
    /// <exception cref="MalformedFrameException">Length-prefixed framing and a non-empty tail: a frame cut short.</exception>
    public bool TryReadFinalMessage(ReadOnlySpan<byte> buffer, out int messageLength)
    {
        if (buffer.IsEmpty)
        {
            messageLength = 0;
            return false;
        }

        if (_prefixed)
        {
            throw MalformedFrameException.Truncated(Mode, buffer.Length > ProtocolException.MaxQuotedBytes ? buffer[..(ProtocolException.MaxQuotedBytes + 1)] : buffer);
        }

        messageLength = TrimmedLength(buffer);
        return true;
    }

    /// <summary>
    /// Sequence form of <see cref="TryReadMessage(ReadOnlySpan{byte}, out int, out int)"/>: on success slices the
    /// message out and advances <paramref name="buffer"/> past its frame.
    /// </summary>
    /// <exception cref="MessageTooLongException">No terminator within the limit.</exception>
    public bool TryReadMessage(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> message)
    {
        if (_prefixed)
        {
            if (LengthPrefix.TryRead(Mode, buffer, MaxMessageBytes, out int header, out int length)
                && buffer.Length - header >= length)
            {
                message = buffer.Slice(header, length);
                buffer = buffer.Slice(message.End);
                return true;
            }

            message = default;
            return false;
        }

        if (buffer.IsSingleSegment)
        {
            if (!TryReadMessage(buffer.FirstSpan, out int length, out int frame))
            {
                message = default;
                return false;
            }

            message = buffer.Slice(0, length);
            buffer = buffer.Slice(frame);
            return true;
        }

        var window = buffer.Length > MaxFrameBytes ? buffer.Slice(0, MaxFrameBytes) : buffer;
        var position = window.PositionOf(_terminator);
        if (position is null)
        {
            if (buffer.Length >= MaxFrameBytes)
            {
                throw new MessageTooLongException(MaxMessageBytes, Head(window));
            }

            message = default;
            return false;
        }

        var body = buffer.Slice(0, position.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, position.Value));
        message = Trimmed(body);
        return true;
    }

    /// <summary>Sequence form of <see cref="TryReadFinalMessage(ReadOnlySpan{byte}, out int)"/>; empties <paramref name="buffer"/> on success.</summary>
    /// <exception cref="MessageTooLongException">The tail is longer than the limit.</exception>
    /// <exception cref="MalformedFrameException">Length-prefixed framing and a non-empty tail: a frame cut short.</exception>
    public bool TryReadFinalMessage(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> message)
    {
        if (buffer.IsEmpty)
        {
            message = default;
            return false;
        }

        if (_prefixed)
        {
            throw MalformedFrameException.Truncated(Mode, Head(buffer));
        }

        message = Trimmed(buffer);
        buffer = buffer.Slice(buffer.End);
        return true;
    }

    /// <summary>
    /// Whether <paramref name="payload"/> can be sent as one message: within the limit and free of the terminator;
    /// not empty in octet counting.
    /// </summary>
    public bool CanCarry(ReadOnlySpan<byte> payload, out string? reason)
    {
        if (payload.Length > MaxMessageBytes)
        {
            reason = $"message is {payload.Length} bytes, longer than the limit of {MaxMessageBytes}";
            return false;
        }

        if (_prefixed)
        {
            bool empty = Mode == FramingMode.Octet && payload.IsEmpty;
            reason = empty ? "message is empty, which octet-counted framing cannot carry (RFC 6587 lengths start at 1)" : null;
            return !empty;
        }

        if (payload.Contains(_terminator))
        {
            reason = Mode == FramingMode.Nul
                ? "message contains a NUL byte, which NUL framing cannot carry"
                : "message contains a line feed, which line framing cannot carry";
            return false;
        }

        if (Mode == FramingMode.Line && !payload.IsEmpty && payload[^1] == (byte)'\r')
        {
            reason = "message ends with a carriage return, which line framing drops";
            return false;
        }

        reason = null;
        return true;
    }

    /// <summary>
    /// Writes <paramref name="payload"/> followed by the terminator, or its length header and then it.
    /// The caller checked <see cref="CanCarry"/>.
    /// </summary>
    public void WriteFrame(ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var span = output.GetSpan(payload.Length + (_prefixed ? LengthPrefix.HeaderLength(Mode, payload.Length) : 1));
        output.Advance(WriteFrameInto(payload, span));
    }

    /// <summary>
    /// Writes the frame of <paramref name="payload"/> into <paramref name="destination"/>, which must hold
    /// <c>payload.Length + </c><see cref="MaxOverheadBytes"/> bytes (<see cref="MaxFrameOverheadBytes"/> when the
    /// payload may be over the limit); returns the frame's length. The payload may already lie anywhere in
    /// <paramref name="destination"/>: it is moved first, then the header written before it.
    /// </summary>
    public int WriteFrameInto(ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        if (!_prefixed)
        {
            payload.CopyTo(destination);
            destination[payload.Length] = _terminator;
            return payload.Length + 1;
        }

        // Payload first (a memmove, so an in-place payload survives), then the header into the bytes before it.
        int header = LengthPrefix.HeaderLength(Mode, payload.Length);
        if (destination.Length < header + payload.Length)
        {
            throw new ArgumentException($"destination must hold {header + payload.Length} bytes", nameof(destination));
        }

        Span<byte> head = stackalloc byte[LengthPrefix.MaxHeaderBytes];
        LengthPrefix.Write(Mode, payload.Length, head);
        payload.CopyTo(destination[header..]);
        head[..header].CopyTo(destination);
        return header + payload.Length;
    }

    private int TrimmedLength(ReadOnlySpan<byte> body)
    {
        int length = body.Length;
        if (Mode == FramingMode.Line && length > 0 && body[length - 1] == (byte)'\r')
        {
            length--;
        }

        if (length > MaxMessageBytes)
        {
            throw new MessageTooLongException(MaxMessageBytes, body);
        }

        return length;
    }

    private ReadOnlySequence<byte> Trimmed(ReadOnlySequence<byte> body)
    {
        // Not FirstSpan[0]: the slice holding the last byte may start with an empty segment; the reader skips those.
        if (Mode == FramingMode.Line && body.Length > 0
            && new SequenceReader<byte>(body.Slice(body.Length - 1)).TryPeek(out byte last) && last == (byte)'\r')
        {
            body = body.Slice(0, body.Length - 1);
        }

        if (body.Length > MaxMessageBytes)
        {
            throw new MessageTooLongException(MaxMessageBytes, Head(body));
        }

        return body;
    }

    private static byte[] Head(ReadOnlySequence<byte> buffer) =>
        buffer.Slice(0, Math.Min(buffer.Length, ProtocolException.MaxQuotedBytes + 1)).ToArray();
}
