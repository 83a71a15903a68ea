namespace TcpTalk.Protocol;

/// <summary>
/// A length-prefixed frame's header was not a length (octet counting: not a decimal number and a space, or a number
/// with a leading zero), or the connection ended inside a frame. The connection cannot resynchronise.
/// </summary>
public sealed class MalformedFrameException : ProtocolException
{
    /// <summary>Creates the exception with a complete sentence.</summary>
    public MalformedFrameException(string message) : base(message) { }

    internal static MalformedFrameException NotALength(ReadOnlySpan<byte> start) =>
        new($"octet-counted frame does not start with a decimal length and a space; it starts {Quote(start)}");

    internal static MalformedFrameException LeadingZero(ReadOnlySpan<byte> start) =>
        new($"octet-counted length starts with 0 (RFC 6587 lengths start with 1 to 9); it starts {Quote(start)}");

    internal static MalformedFrameException Truncated(FramingMode mode, ReadOnlySpan<byte> start) =>
        new($"connection closed inside a frame ({mode.ToName()} framing); it starts {Quote(start)}");
}
