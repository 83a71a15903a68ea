using System.Buffers;
using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Fuzz;

/// <summary>
/// Fuzzes <see cref="MessageText"/>: received bytes decoded in UTF-8 or a legacy code page and escaped for a
/// terminal. The first byte picks the encoding (0xFF: the rest is an encoding name for
/// <see cref="MessageText.TryGetEncoding"/>, which must answer without throwing); the rest is the message.
/// Every result must be safe to print (<see cref="EscapedText.CheckSafe"/>), the string, sequence and buffer-writer
/// forms must agree, and in UTF-8 unescaping must give back exactly the received bytes.
/// </summary>
internal static class TextTarget
{
    /// <summary>The encodings tried: UTF-8 and the legacy code pages users of the classic programs have.</summary>
    public static readonly string[] EncodingNames =
    [
        "utf-8", "gbk", "gb18030", "big5", "shift_jis", "euc-jp", "euc-kr", "cp949", "cp437", "cp850", "windows-1252",
        "windows-1251", "windows-1258", "koi8-r", "iso-8859-1",
    ];

    private static readonly Encoding[] s_encodings = [.. EncodingNames.Select(MessageText.GetEncoding)];

    public static void Run(byte[] data)
    {
        if (data.Length > 0 && data[0] == 0xFF)
        {
            RunName(data);
            return;
        }

        var encoding = s_encodings[data.Length > 0 ? data[0] % s_encodings.Length : 0];
        ReadOnlySpan<byte> raw = data.Length > 1 ? data.AsSpan(1) : default;
        string text = Decode(raw, encoding, data);
        if (encoding.CodePage == Encoding.UTF8.CodePage)
        {
            InvariantViolationException.Check(EscapedText.UnescapeUtf8(text).AsSpan().SequenceEqual(raw),
                $"utf-8: \"{text}\" does not unescape to the received bytes", data);
        }

        // Decoded text escaped again (what a journal reader or a log does with a string) must stay safe too.
        string utf16 = new(Utf16Units(raw));
        EscapedText.CheckSafe(MessageText.Escape(utf16), "Escape", data);
    }

    private static string Decode(ReadOnlySpan<byte> raw, Encoding encoding, byte[] data)
    {
        string name = encoding.WebName;
        string text = MessageText.DecodeEscaped(raw, encoding);
        EscapedText.CheckSafe(text, name, data);

        var written = new ArrayBufferWriter<byte>();
        MessageText.WriteEscapedUtf8(raw, encoding, written);
        InvariantViolationException.Check(written.WrittenSpan.SequenceEqual(Encoding.UTF8.GetBytes(text)),
            $"{name}: WriteEscapedUtf8 differs from DecodeEscaped \"{text}\"", data);

        // The server decodes from a pipe's buffer: the same bytes in several segments must read the same.
        if (raw.Length > 1)
        {
            byte[] copy = raw.ToArray();
            int middle = copy.Length / 2;
            var sequence = ChainedSegment.Sequence([copy.AsMemory(0, middle), copy.AsMemory(middle)]);
            InvariantViolationException.Check(MessageText.DecodeEscaped(sequence, encoding) == text,
                $"{name}: a two-segment sequence decodes differently from \"{text}\"", data);
        }

        return text;
    }

    private static void RunName(byte[] data)
    {
        string name = Encoding.UTF8.GetString(data, 1, data.Length - 1);
        if (!MessageText.TryGetEncoding(name, out var encoding, out string? error))
        {
            InvariantViolationException.Check(!string.IsNullOrEmpty(error) && !error.Contains('\n', StringComparison.Ordinal),
                "TryGetEncoding failed without a one-line reason", data);
            return;
        }

        Decode("A\0\n\r\\\u00ff\u0080"u8, encoding, data);
    }

    private static char[] Utf16Units(ReadOnlySpan<byte> raw)
    {
        var chars = new char[raw.Length / 2];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)(raw[2 * i] | raw[2 * i + 1] << 8);
        }

        return chars;
    }
}
