using System.Buffers;
using System.Globalization;
using System.Text;

namespace TcpTalk.Fuzz;

/// <summary>The properties every string <see cref="Protocol.MessageText"/> produces must have, and the UTF-8 inverse of its escaping.</summary>
internal static class EscapedText
{
    /// <summary>
    /// Throws unless <paramref name="text"/> is safe for a terminal: valid UTF-16, no C0 control, DEL, C1 control,
    /// bidi control or line/paragraph separator, and every backslash starts one of the documented escapes.
    /// </summary>
    public static void CheckSafe(string text, string what, ReadOnlySpan<byte> input)
    {
        int i = 0;
        while (i < text.Length)
        {
            var status = Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out int consumed);
            InvariantViolationException.Check(status == OperationStatus.Done, $"{what}: invalid UTF-16 at {i} in \"{text}\"", input);
            InvariantViolationException.Check(!IsUnsafe(rune.Value), $"{what}: U+{rune.Value:X4} unescaped at {i} in \"{text}\"", input);
            if (rune.Value == '\\')
            {
                int length = EscapeLength(text.AsSpan(i));
                InvariantViolationException.Check(length > 0, $"{what}: a backslash at {i} starts no escape in \"{text}\"", input);
                consumed = length;
            }

            i += consumed;
        }
    }

    /// <summary>The bytes a UTF-8 escaped string stands for: <c>\xNN</c> is the raw byte, everything else its UTF-8.</summary>
    public static byte[] UnescapeUtf8(string text)
    {
        var bytes = new ArrayBufferWriter<byte>(text.Length + 1);
        int i = 0;
        while (i < text.Length)
        {
            int length = text[i] == '\\' ? EscapeLength(text.AsSpan(i)) : 0;
            if (length == 0)
            {
                Rune.DecodeFromUtf16(text.AsSpan(i), out Rune rune, out length);
                Append(bytes, rune);
            }
            else
            {
                char kind = text[i + 1];
                switch (kind)
                {
                    case 'x':
                        bytes.Write([byte.Parse(text.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)]);
                        break;
                    case 'u':
                        Append(bytes, new Rune(int.Parse(text.AsSpan(i + 2, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture)));
                        break;
                    default:
                        bytes.Write([kind switch { 't' => (byte)'\t', 'n' => (byte)'\n', 'r' => (byte)'\r', _ => (byte)'\\' }]);
                        break;
                }
            }

            i += length;
        }

        return bytes.WrittenSpan.ToArray();
    }

    private static void Append(ArrayBufferWriter<byte> bytes, Rune rune)
    {
        int written = rune.EncodeToUtf8(bytes.GetSpan(4));
        bytes.Advance(written);
    }

    /// <summary>The length of the escape at the start of <paramref name="text"/> (a backslash), or 0 when it is none.</summary>
    private static int EscapeLength(ReadOnlySpan<char> text)
    {
        if (text.Length < 2)
        {
            return 0;
        }

        return text[1] switch
        {
            '\\' or 't' or 'n' or 'r' => 2,
            'x' when text.Length >= 4 && IsLowerHex(text.Slice(2, 2)) => 4,
            'u' when text.Length >= 6 && IsLowerHex(text.Slice(2, 4)) => 6,
            _ => 0,
        };
    }

    private static bool IsLowerHex(ReadOnlySpan<char> digits) => !digits.ContainsAnyExcept("0123456789abcdef");

    private static bool IsUnsafe(int scalar) => scalar switch
    {
        < 0x20 or 0x7F => true,
        >= 0x80 and <= 0x9F => true,
        0x061C or 0x200E or 0x200F => true,
        >= 0x202A and <= 0x202E => true,
        >= 0x2066 and <= 0x2069 => true,
        0x2028 or 0x2029 => true,
        _ => false,
    };
}
