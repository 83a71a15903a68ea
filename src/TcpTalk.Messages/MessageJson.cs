using System.Text.Encodings.Web;
using System.Text.Json;

namespace TcpTalk.Messages;

/// <summary>
/// How every JSON message line is encoded (<c>tcptalk serve --output json</c>, <c>tcptalk messages --json</c>):
/// text as UTF-8 (<c>你好</c>, not <c>\u4F60\u597D</c>), control characters still escaped.
/// </summary>
/// <remarks>
/// <see cref="JavaScriptEncoder.UnsafeRelaxedJsonEscaping"/> is "unsafe" only for JSON embedded in HTML (it leaves
/// <c>&lt;</c>, <c>&amp;</c> and quotes of other kinds as they are); JSON Lines on stdout is not. It still escapes
/// C0 and C1 controls, DEL and U+2028/U+2029, and writes characters outside the BMP (emoji) as <c>\uD83D\uDE00</c>
/// pairs: valid JSON that every reader (jq, Python's json) turns back into the character. Built in, so NativeAOT-clean.
/// </remarks>
public static class MessageJson
{
    /// <summary>The encoder of every message line's strings.</summary>
    public static JavaScriptEncoder Encoder => JavaScriptEncoder.UnsafeRelaxedJsonEscaping;

    /// <summary>Options for a <see cref="Utf8JsonWriter"/> that writes message lines.</summary>
    public static JsonWriterOptions WriterOptions => new() { Encoder = Encoder };
}
