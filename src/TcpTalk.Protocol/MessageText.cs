using System.Buffers;
using System.Text;

namespace TcpTalk.Protocol;

/// <summary>
/// Turns received bytes into text that is safe to show on an operator's terminal. The encodings it decodes with are
/// <see cref="MessageEncodings"/>' (the lookup members here are shortcuts to it).
/// </summary>
/// <remarks>
/// Escapes, so that a peer can neither drive the terminal nor make two different inputs look the same:
/// a backslash becomes <c>\\</c>; TAB, LF and CR become <c>\t</c>, <c>\n</c>, <c>\r</c>; every other C0 control
/// and DEL becomes <c>\xNN</c>; a byte that is invalid in the encoding becomes <c>\xNN</c> (the raw byte); C1
/// controls, bidirectional overrides and line/paragraph separators become <c>\uNNNN</c>.
/// Everything else is shown as the character it encodes.
/// </remarks>
public static class MessageText
{
    // Printable ASCII except the backslash: copied through untouched on the fast path.
    private static readonly SearchValues<byte> s_plainAscii = SearchValues.Create(
        "\u0020!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"u8);

    // Invalid bytes of a non-UTF-8 encoding are decoded to U+10FF00 + byte (MessageEncodings' fallback) and escaped
    // as \xNN afterwards; a real U+10FFxx in the input is shown the same way.
    private const int EscapedByteBase = MessageEncodings.EscapedByteBase;

    /// <summary>UTF-8 with invalid bytes escaped rather than replaced: <see cref="MessageEncodings.Utf8"/>.</summary>
    public static Encoding Utf8 => MessageEncodings.Utf8;

    /// <summary>Finds an encoding by name: <see cref="MessageEncodings.TryGetEncoding"/>.</summary>
    public static bool TryGetEncoding(string name, out Encoding encoding, out string? error) =>
        MessageEncodings.TryGetEncoding(name, out encoding, out error);

    /// <summary>Finds an encoding by name or throws: <see cref="MessageEncodings.GetEncoding"/>.</summary>
    public static Encoding GetEncoding(string name) => MessageEncodings.GetEncoding(name);

    /// <summary>
    /// True when <paramref name="raw"/> is printable ASCII without a backslash: in UTF-8 such bytes are shown as they
    /// are, so <see cref="WriteEscapedUtf8"/> would copy them unchanged (a caller may copy them itself).
    /// </summary>
    public static bool IsPlainAscii(ReadOnlySpan<byte> raw) => raw.IndexOfAnyExcept(s_plainAscii) < 0;

    /// <summary>Decodes <paramref name="raw"/> in <paramref name="encoding"/> and escapes it (see the type's remarks).</summary>
    public static string DecodeEscaped(ReadOnlySpan<byte> raw, Encoding encoding)
    {
        if (encoding.CodePage == Encoding.UTF8.CodePage && raw.IndexOfAnyExcept(s_plainAscii) < 0)
        {
            return Encoding.ASCII.GetString(raw);
        }

        var output = new ArrayBufferWriter<byte>(raw.Length + 16);
        WriteEscapedUtf8(raw, encoding, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    /// <summary>Sequence form of <see cref="DecodeEscaped(ReadOnlySpan{byte}, Encoding)"/>.</summary>
    public static string DecodeEscaped(in ReadOnlySequence<byte> raw, Encoding encoding) =>
        raw.IsSingleSegment ? DecodeEscaped(raw.FirstSpan, encoding) : DecodeEscaped(raw.ToArray(), encoding);

    /// <summary>
    /// Decodes <paramref name="raw"/> in <paramref name="encoding"/>, escapes it, and appends the result as UTF-8 to
    /// <paramref name="output"/>. Allocation-free for UTF-8 input.
    /// </summary>
    public static void WriteEscapedUtf8(ReadOnlySpan<byte> raw, Encoding encoding, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(output);
        if (encoding.CodePage == Encoding.UTF8.CodePage)
        {
            WriteEscapedFromUtf8(raw, output);
            return;
        }

        int maxChars = encoding.GetMaxCharCount(raw.Length);
        char[]? rented = null;
        Span<char> chars = maxChars <= 512 ? stackalloc char[512] : (rented = ArrayPool<char>.Shared.Rent(maxChars));
        try
        {
            int count = encoding.GetChars(raw, chars);
            WriteEscaped(chars[..count], output, encoding);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Escapes already-decoded text (see the type's remarks) into a new string.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new ArrayBufferWriter<byte>(text.Length + 16);
        WriteEscaped(text, output);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static void WriteEscapedFromUtf8(ReadOnlySpan<byte> raw, IBufferWriter<byte> output)
    {
        while (!raw.IsEmpty)
        {
            int special = raw.IndexOfAnyExcept(s_plainAscii);
            if (special < 0)
            {
                Write(output, raw);
                return;
            }

            Write(output, raw[..special]);
            raw = raw[special..];
            byte first = raw[0];
            if (first < 0x80)
            {
                WriteAsciiEscape(first, output);
                raw = raw[1..];
                continue;
            }

            var status = Rune.DecodeFromUtf8(raw, out Rune rune, out int consumed);
            if (status != OperationStatus.Done)
            {
                // Invalid or truncated sequence: show each byte of its maximal invalid prefix as \xNN.
                for (int i = 0; i < consumed; i++)
                {
                    WriteHexEscape('x', raw[i], 2, output);
                }
            }
            else if (IsUnsafe(rune))
            {
                WriteHexEscape('u', rune.Value, 4, output);
            }
            else
            {
                Write(output, raw[..consumed]);
            }

            raw = raw[consumed..];
        }
    }

    private static void WriteEscaped(ReadOnlySpan<char> text, IBufferWriter<byte> output, Encoding? source = null)
    {
        while (!text.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(text, out Rune rune, out int consumed) != OperationStatus.Done)
            {
                WriteHexEscape('u', text[0], 4, output); // a lone surrogate in a string: show it, never emit it
                text = text[1..];
                continue;
            }

            text = text[consumed..];
            if (rune.Value < 0x80)
            {
                byte b = (byte)rune.Value;
                if (s_plainAscii.Contains(b))
                {
                    output.GetSpan(1)[0] = b;
                    output.Advance(1);
                }
                else
                {
                    WriteAsciiEscape(b, output);
                }
            }
            else if (rune.Value >= EscapedByteBase)
            {
                WriteHexEscape('x', rune.Value - EscapedByteBase, 2, output);
            }
            else if (IsUnsafe(rune))
            {
                WriteHexEscape('u', rune.Value, 4, output);
            }
            else if (source is not null && rune.Value is >= 0xE000 and <= 0xF8FF)
            {
                // Code page tables map bytes they do not define to private use (GBK 0xFF -> U+F8F5) rather than
                // calling the fallback; such a character has no glyph, so show the bytes it came from.
                WriteSourceBytes(rune, source, output);
            }
            else
            {
                int written = rune.EncodeToUtf8(output.GetSpan(4));
                output.Advance(written);
            }
        }
    }

    private static bool IsUnsafe(Rune rune) => rune.Value switch
    {
        >= 0x80 and <= 0x9F => true,        // C1 controls (CSI 0x9B drives terminals)
        0x061C or 0x200E or 0x200F => true, // bidi marks
        >= 0x202A and <= 0x202E => true,    // bidi embeddings and overrides
        >= 0x2066 and <= 0x2069 => true,    // bidi isolates
        0x2028 or 0x2029 => true,           // line and paragraph separators
        _ => false,
    };

    private static void WriteSourceBytes(Rune rune, Encoding source, IBufferWriter<byte> output)
    {
        Span<char> chars = stackalloc char[2];
        Span<byte> bytes = stackalloc byte[16];
        int length = rune.EncodeToUtf16(chars);
        try
        {
            int count = source.GetBytes(chars[..length], bytes);
            foreach (byte b in bytes[..count])
            {
                WriteHexEscape('x', b, 2, output);
            }
        }
        catch (Exception e) when (e is EncoderFallbackException or ArgumentException)
        {
            WriteHexEscape('u', rune.Value, 4, output);
        }
    }

    private static void WriteAsciiEscape(byte b, IBufferWriter<byte> output)
    {
        ReadOnlySpan<byte> escape = b switch
        {
            (byte)'\\' => "\\\\"u8,
            (byte)'\t' => "\\t"u8,
            (byte)'\n' => "\\n"u8,
            (byte)'\r' => "\\r"u8,
            _ => default,
        };
        if (escape.IsEmpty)
        {
            WriteHexEscape('x', b, 2, output);
        }
        else
        {
            Write(output, escape);
        }
    }

    private static void WriteHexEscape(char kind, int value, int digits, IBufferWriter<byte> output)
    {
        var span = output.GetSpan(2 + digits);
        span[0] = (byte)'\\';
        span[1] = (byte)kind;
        for (int i = digits - 1; i >= 0; i--)
        {
            span[2 + i] = (byte)"0123456789abcdef"[value & 0xF];
            value >>= 4;
        }

        output.Advance(2 + digits);
    }

    private static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        bytes.CopyTo(output.GetSpan(bytes.Length));
        output.Advance(bytes.Length);
    }
}
