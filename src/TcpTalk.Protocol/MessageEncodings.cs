using System.Globalization;
using System.Text;

namespace TcpTalk.Protocol;

/// <summary>
/// Finds the encodings message text may use, by name, and decodes with them so that escaping can show every invalid
/// byte: UTF-8 (the default) and the legacy code pages that keep ASCII as single bytes.
/// </summary>
/// <remarks>
/// Invalid bytes of a non-UTF-8 encoding are decoded to U+10FF00 + byte (supplementary private use area B), which
/// <see cref="MessageText"/> shows as <c>\xNN</c>; UTF-8 replaces them, and <see cref="MessageText"/> escapes its raw
/// bytes directly.
/// </remarks>
public static class MessageEncodings
{
    /// <summary>The first scalar of the decoded invalid bytes: byte b decodes to <c>EscapedByteBase + b</c>.</summary>
    internal const int EscapedByteBase = 0x10FF00;

    private static int s_providerRegistered;

    /// <summary>UTF-8 with invalid bytes escaped rather than replaced. The default encoding.</summary>
    public static Encoding Utf8 { get; } = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>
    /// Finds an encoding by web name (<c>utf-8</c>, <c>gbk</c>, <c>big5</c>, <c>shift_jis</c>, <c>windows-1252</c>...),
    /// <c>cpNNN</c> or a code page number, legacy code pages included. Only encodings that keep ASCII as single bytes
    /// qualify, because the terminators are ASCII bytes.
    /// </summary>
    public static bool TryGetEncoding(string name, out Encoding encoding, out string? error)
    {
        ArgumentNullException.ThrowIfNull(name);
        EnsureCodePages();
        encoding = Utf8;
        string key = name.Trim();
        Encoding? found = null;
        try
        {
            if (key.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || key.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            {
                error = null;
                return true;
            }

            string digits = key.StartsWith("cp", StringComparison.OrdinalIgnoreCase) ? key[2..] : key;
            found = int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int codePage)
                ? Encoding.GetEncoding(codePage, EncoderFallback.ExceptionFallback, ByteEscapingFallback.Instance)
                : Encoding.GetEncoding(key, EncoderFallback.ExceptionFallback, ByteEscapingFallback.Instance);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            error = $"unknown encoding '{MessageText.Escape(name)}' (examples: utf-8, gbk, big5, shift_jis, windows-1252, cp437)";
            return false;
        }

        if (found.CodePage == Encoding.UTF8.CodePage)
        {
            error = null;
            return true;
        }

        if (!KeepsAscii(found))
        {
            error = $"encoding '{MessageText.Escape(name)}' does not keep ASCII as single bytes, so NUL and LF framing cannot work with it";
            return false;
        }

        encoding = found;
        error = null;
        return true;
    }

    /// <summary>Like <see cref="TryGetEncoding"/> but throws <see cref="ArgumentException"/> with the reason.</summary>
    public static Encoding GetEncoding(string name) =>
        TryGetEncoding(name, out var encoding, out var error) ? encoding : throw new ArgumentException(error, nameof(name));

    private static bool KeepsAscii(Encoding encoding)
    {
        ReadOnlySpan<byte> probe = "\0\n\r A~\\"u8;
        Span<byte> encoded = stackalloc byte[64];
        try
        {
            int n = encoding.GetBytes("\0\n\r A~\\", encoded);
            return encoded[..n].SequenceEqual(probe);
        }
        catch (Exception e) when (e is ArgumentException or EncoderFallbackException)
        {
            return false;
        }
    }

    private static void EnsureCodePages()
    {
        if (Interlocked.Exchange(ref s_providerRegistered, 1) == 0)
        {
            Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        }
    }

    /// <summary>Decodes each invalid byte to U+10FF00 + byte, so that escaping can show it as <c>\xNN</c>.</summary>
    private sealed class ByteEscapingFallback : DecoderFallback
    {
        public static readonly ByteEscapingFallback Instance = new();

        public override int MaxCharCount => 8; // up to 4 bytes, each a surrogate pair

        public override DecoderFallbackBuffer CreateFallbackBuffer() => new Buffer();

        private sealed class Buffer : DecoderFallbackBuffer
        {
            private byte[] _bytes = [];
            private int _next; // index into the UTF-16 output: 2 chars per byte

            public override int Remaining => _bytes.Length * 2 - _next;

            public override bool Fallback(byte[] bytesUnknown, int index)
            {
                _bytes = bytesUnknown;
                _next = 0;
                return true;
            }

            public override char GetNextChar()
            {
                if (_next >= _bytes.Length * 2)
                {
                    return '\0';
                }

                int scalar = EscapedByteBase + _bytes[_next / 2];
                Span<char> pair = stackalloc char[2];
                new Rune(scalar).EncodeToUtf16(pair);
                return pair[_next++ % 2];
            }

            public override bool MovePrevious()
            {
                if (_next == 0)
                {
                    return false;
                }

                _next--;
                return true;
            }

            public override void Reset()
            {
                _bytes = [];
                _next = 0;
            }
        }
    }
}
