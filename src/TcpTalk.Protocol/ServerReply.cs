using System.Buffers;
using System.Text;

namespace TcpTalk.Protocol;

/// <summary>
/// Frames the server sends after the greeting: <c>error: &lt;sentence&gt;</c> (after which the server closes the
/// connection) and, with acknowledgements on, <c>ack &lt;journal id&gt;</c> once a message is stored. Each is followed by
/// the terminator of the connection's framing, or in a length-prefixed framing preceded by the frame's length header.
/// </summary>
public static class ServerReply
{
    /// <summary>The prefix of an error frame: <c>error: </c>.</summary>
    public const string ErrorPrefix = "error: ";

    /// <summary>Writes the error frame for <paramref name="sentence"/> (ASCII is expected; other text is sent as UTF-8).</summary>
    public static void WriteError(string sentence, MessageFramer framer, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(framer);
        byte[] payload = Encoding.UTF8.GetBytes(ErrorPrefix + sentence.Replace('\0', ' ').Replace('\n', ' '));
        framer.WriteFrame(payload, output);
    }

    /// <summary>
    /// The most bytes one acknowledgement frame takes: <c>ack </c>, 19 digits, and the terminator or a length header
    /// (at most 4 bytes: <c>23 </c> in octet counting, 2 or 4 binary).
    /// </summary>
    public const int MaxAckFrameBytes = 4 + 19 + 4;

    /// <summary>Writes the frame of <c>ack &lt;id&gt;</c> into <paramref name="destination"/>; returns the length.</summary>
    public static int WriteAck(long id, MessageFramer framer, Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(framer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(id);
        Span<byte> payload = stackalloc byte[4 + 19];
        "ack "u8.CopyTo(payload);
        id.TryFormat(payload[4..], out int digits, provider: System.Globalization.CultureInfo.InvariantCulture);
        return framer.WriteFrameInto(payload[..(4 + digits)], destination);
    }

    /// <summary>Whether <paramref name="frame"/> is an acknowledgement; if so, returns the journal id it carries.</summary>
    public static bool TryParseAck(ReadOnlySpan<byte> frame, out long id)
    {
        id = 0;
        return frame.StartsWith("ack "u8)
            && System.Buffers.Text.Utf8Parser.TryParse(frame[4..], out id, out int consumed)
            && consumed == frame.Length - 4
            && id > 0;
    }

    /// <summary>Whether <paramref name="frame"/> is an error frame; if so, returns its sentence, escaped for display.</summary>
    public static bool TryParseError(ReadOnlySpan<byte> frame, out string sentence)
    {
        ReadOnlySpan<byte> prefix = "error: "u8;
        if (frame.StartsWith(prefix))
        {
            sentence = MessageText.DecodeEscaped(frame[prefix.Length..], MessageText.Utf8);
            return true;
        }

        sentence = string.Empty;
        return false;
    }
}
