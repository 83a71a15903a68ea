using System.Buffers;
using System.Text;

namespace TcpTalk.Protocol;

/// <summary>
/// Frames the server sends after the greeting. Today only errors: <c>error: &lt;sentence&gt;</c> followed by the
/// terminator, after which the server closes the connection.
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
