using System.Buffers;
using System.Text;

namespace TcpTalk.Protocol.Tests;

public class MessageTextTests
{
    [Theory]
    [InlineData("hello, world", "hello, world")]
    [InlineData("", "")]
    [InlineData("a\\b", "a\\\\b")]
    [InlineData("\\x41", "\\\\x41")]
    [InlineData("tab\there", "tab\\there")]
    [InlineData("l1\nl2\r\n", "l1\\nl2\\r\\n")]
    [InlineData("\0", "\\x00")]
    [InlineData("\u0007\u0008\u000b\u000c", "\\x07\\x08\\x0b\\x0c")]
    [InlineData("\u001b[31mred", "\\x1b[31mred")]
    [InlineData("\u001f \u007f~", "\\x1f \\x7f~")]
    [InlineData("w\u00f6rld", "w\u00f6rld")]
    [InlineData("\u4f60\u597d", "\u4f60\u597d")]
    [InlineData("\U0001F600", "\U0001F600")]
    [InlineData("\u00a0\u00ff\u0100", "\u00a0\u00ff\u0100")]
    [InlineData("\u0080\u0085\u009b\u009f", "\\u0080\\u0085\\u009b\\u009f")]
    [InlineData("abc\u202edcba", "abc\\u202edcba")]
    [InlineData("\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d")]
    [InlineData("\u2066\u2067\u2068\u2069", "\\u2066\\u2067\\u2068\\u2069")]
    [InlineData("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c")]
    [InlineData("a\u2028b\u2029c", "a\\u2028b\\u2029c")]
    [InlineData("\u2027\u202f\u2065\u206a", "\u2027\u202f\u2065\u206a")]
    [InlineData("\ue000\uf8ff", "\ue000\uf8ff")]
    public void ValidUtf8IsEscapedByTheDocumentedRules(string text, string expected)
    {
        byte[] raw = Encoding.UTF8.GetBytes(text);
        Assert.Equal(expected, MessageText.DecodeEscaped(raw, MessageEncodings.Utf8));
        Assert.Equal(expected, MessageText.DecodeEscaped(raw, Encoding.UTF8));
        Assert.Equal(expected, MessageText.Escape(text));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, "\\xff")]
    [InlineData(new byte[] { 0x61, 0xFE, 0x62 }, "a\\xfeb")]
    [InlineData(new byte[] { 0x80, 0x41 }, "\\x80A")]                    // lone continuation byte
    [InlineData(new byte[] { 0xC3, 0x28 }, "\\xc3(")]                    // lead byte without its continuation
    [InlineData(new byte[] { 0xC0, 0x80 }, "\\xc0\\x80")]                // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "\\xed\\xa0\\x80")]     // UTF-16 surrogate encoded in UTF-8
    [InlineData(new byte[] { 0xF4, 0x90, 0x80, 0x80 }, "\\xf4\\x90\\x80\\x80")] // above U+10FFFF
    [InlineData(new byte[] { 0xE4, 0xB8, 0x41 }, "\\xe4\\xb8A")]         // truncated in the middle
    [InlineData(new byte[] { 0x6F, 0x6B, 0xE4, 0xB8 }, "ok\\xe4\\xb8")]  // truncated at the end
    [InlineData(new byte[] { 0xF0, 0x9F, 0x98 }, "\\xf0\\x9f\\x98")]     // truncated four-byte sequence at the end
    [InlineData(new byte[] { 0xC3 }, "\\xc3")]
    [InlineData(new byte[] { 0xC2, 0x9B, 0x5C }, "\\u009b\\\\")]         // C1 CSI, then a backslash
    public void InvalidUtf8BytesAreShownAsHexEscapes(byte[] raw, string expected)
    {
        Assert.Equal(expected, MessageText.DecodeEscaped(raw, MessageEncodings.Utf8));
    }

    [Fact]
    public void EscapedOutputCannotBeConfusedWithAnEscapeTheInputSpelledOut()
    {
        // "\xff" typed as four characters and the byte 0xFF must look different.
        Assert.NotEqual(
            MessageText.DecodeEscaped("\\xff"u8, MessageEncodings.Utf8),
            MessageText.DecodeEscaped([0xFF], MessageEncodings.Utf8));
        Assert.Equal("\\\\xff", MessageText.DecodeEscaped("\\xff"u8, MessageEncodings.Utf8));
    }

    [Fact]
    public void EscapeShowsALoneSurrogateInsteadOfEmittingIt()
    {
        Assert.Equal("a\\ud800b", MessageText.Escape("a\ud800b"));
        Assert.Equal("\\udc00", MessageText.Escape("\udc00"));
        Assert.Throws<ArgumentNullException>("text", () => MessageText.Escape(null!));
    }

    [Theory]
    [InlineData("gbk", 936, new byte[] { 0xC4, 0xE3, 0xBA, 0xC3 }, "\u4f60\u597d")]
    [InlineData("GBK", 936, new byte[] { 0x68, 0x69, 0x20, 0xC4, 0xE3 }, "hi \u4f60")]
    [InlineData("cp936", 936, new byte[] { 0xC4, 0xE3, 0xBA, 0xC3 }, "\u4f60\u597d")]
    [InlineData("936", 936, new byte[] { 0xC4, 0xE3, 0xBA, 0xC3 }, "\u4f60\u597d")]
    [InlineData("big5", 950, new byte[] { 0xA7, 0x41, 0xA6, 0x6E }, "\u4f60\u597d")]
    [InlineData("shift_jis", 932, new byte[] { 0x93, 0xFA, 0x96, 0x7B }, "\u65e5\u672c")]
    [InlineData("windows-1252", 1252, new byte[] { 0x80, 0x20, 0xE9, 0x5C }, "\u20ac \u00e9\\\\")]
    [InlineData("cp1252", 1252, new byte[] { 0x63, 0x61, 0x66, 0xE9 }, "caf\u00e9")]
    [InlineData("latin1", 28591, new byte[] { 0x63, 0x61, 0x66, 0xE9, 0x85 }, "caf\u00e9\\u0085")]
    [InlineData("cp437", 437, new byte[] { 0x82, 0x1B }, "\u00e9\\x1b")]
    [InlineData(" utf-8 ", 65001, new byte[] { 0xC3, 0xA9, 0xFF }, "\u00e9\\xff")]
    [InlineData("UTF8", 65001, new byte[] { 0xC3, 0xA9 }, "\u00e9")]
    public void EncodingsAreFoundByNameAndDecodeEscaped(string name, int codePage, byte[] raw, string expected)
    {
        Assert.True(MessageEncodings.TryGetEncoding(name, out var encoding, out string? error), error);
        Assert.Null(error);
        Assert.Equal(codePage, encoding.CodePage);
        Assert.Equal(expected, MessageText.DecodeEscaped(raw, encoding));
        Assert.Same(encoding.GetType(), MessageEncodings.GetEncoding(name).GetType());
    }

    [Fact]
    public void Utf8ByAnyNameIsTheEscapingUtf8()
    {
        Assert.True(MessageEncodings.TryGetEncoding("utf-8", out var encoding, out _));
        Assert.Same(MessageEncodings.Utf8, encoding);
        Assert.True(MessageEncodings.TryGetEncoding("65001", out encoding, out _));
        Assert.Same(MessageEncodings.Utf8, encoding);
        Assert.Empty(MessageEncodings.Utf8.GetPreamble());
    }

    [Theory]
    [InlineData(new byte[] { 0xFF }, "\\xff")]
    [InlineData(new byte[] { 0x61, 0xFF, 0x62 }, "a\\xffb")]
    [InlineData(new byte[] { 0xC4, 0xE3, 0xC4 }, "\u4f60\\xc4")]     // lead byte cut off at the end
    [InlineData(new byte[] { 0xC4, 0xE3, 0x80 }, "\u4f60\u20ac")]    // 0x80 is the euro sign in code page 936
    [InlineData(new byte[] { 0xA1, 0x7F }, "\\xa1\\x7f")]                // lead byte with an invalid trail byte
    [InlineData(new byte[] { 0xAA, 0xA1 }, "\\xaa\\xa1")]                // user-defined area: a private-use character
    [InlineData(new byte[] { 0x1B, 0x5B, 0x0D }, "\\x1b[\\r")]
    public void InvalidGbkBytesAreShownAsHexEscapes(byte[] raw, string expected)
    {
        // Regression for 0xFF: the code page table maps it to U+F8F5 (private use, no glyph) without calling the
        // decoder fallback, so "a\xFFb" was shown as "a\uF8F5b", which looks like "ab" on a terminal.
        var gbk = MessageEncodings.GetEncoding("gbk");
        Assert.Equal(expected, MessageText.DecodeEscaped(raw, gbk));
    }

    [Theory]
    [InlineData("big5", new byte[] { 0x61, 0xFF, 0x80 }, "a\\xff\\u0080")]
    [InlineData("shift_jis", new byte[] { 0xA0, 0xFF, 0x85 }, "\\xa0\\xff\\x85")]
    [InlineData("windows-1252", new byte[] { 0x81, 0x8D, 0x9D }, "\\u0081\\u008d\\u009d")] // undefined bytes map to C1 controls
    public void BytesALegacyCodePageDoesNotDefineAreShownEscaped(string name, byte[] raw, string expected)
    {
        Assert.Equal(expected, MessageText.DecodeEscaped(raw, MessageEncodings.GetEncoding(name)));
    }

    [Theory]
    [InlineData("utf-16")]
    [InlineData("utf-16BE")]
    [InlineData("utf-32")]
    [InlineData("1200")]
    [InlineData("cp037")]
    public void EncodingsThatDoNotKeepAsciiAreRefusedWithTheReason(string name)
    {
        Assert.False(MessageEncodings.TryGetEncoding(name, out _, out string? error));
        Assert.Equal($"encoding '{name}' does not keep ASCII as single bytes, so NUL and LF framing cannot work with it", error);
        var thrown = Assert.Throws<ArgumentException>("name", () => MessageEncodings.GetEncoding(name));
        Assert.StartsWith(error, thrown.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("klingon")]
    [InlineData("")]
    [InlineData("cp")]
    [InlineData("cp99999")]
    [InlineData("-1")]
    public void UnknownEncodingsAreRefusedWithTheReason(string name)
    {
        Assert.False(MessageEncodings.TryGetEncoding(name, out var encoding, out string? error));
        Assert.Equal($"unknown encoding '{name}' (examples: utf-8, gbk, big5, shift_jis, windows-1252, cp437)", error);
        Assert.Same(MessageEncodings.Utf8, encoding);
        Assert.Throws<ArgumentException>("name", () => MessageEncodings.GetEncoding(name));
    }

    [Fact]
    public void AnEncodingNameIsQuotedEscapedSoTheErrorStaysOneLine()
    {
        // Found by fuzzing (fuzz/regressions/text/encoding-name-with-newline).
        Assert.False(MessageEncodings.TryGetEncoding("gb\nk\u001b[2J", out _, out string? error));
        Assert.Equal("unknown encoding 'gb\\nk\\x1b[2J' (examples: utf-8, gbk, big5, shift_jis, windows-1252, cp437)", error);
    }

    [Fact]
    public void MessageTextLookupIsMessageEncodingsLookup()
    {
        Assert.Same(MessageEncodings.Utf8, MessageText.Utf8);
        Assert.Equal(MessageEncodings.GetEncoding("gbk").CodePage, MessageText.GetEncoding("gbk").CodePage);
        Assert.False(MessageText.TryGetEncoding("utf-16", out _, out string? error));
        Assert.Equal("encoding 'utf-16' does not keep ASCII as single bytes, so NUL and LF framing cannot work with it", error);
    }

    [Fact]
    public void NullEncodingNameIsAnArgumentError()
    {
        Assert.Throws<ArgumentNullException>("name", () => MessageEncodings.TryGetEncoding(null!, out _, out _));
    }

    public static TheoryData<string, byte[]> AgreementCases => new()
    {
        { "utf-8", "plain ascii"u8.ToArray() },
        { "utf-8", [0x61, 0x5C, 0x00, 0x09, 0x7F, 0xC3, 0xB6, 0xFF, 0xC2, 0x85, 0xE2, 0x80, 0xAE, 0xF0, 0x9F, 0x98, 0x80, 0xE4, 0xB8] },
        { "gbk", [0xC4, 0xE3, 0xBA, 0xC3, 0xFF, 0x0A, 0x5C, 0xC4] },
        { "big5", [0xA7, 0x41, 0x1B, 0xA6] },
        { "shift_jis", [0x93, 0xFA, 0x96, 0x7B, 0x5C, 0x7E, 0x85] },
        { "windows-1252", [0x80, 0x81, 0x8D, 0x9B, 0xE9] },
        { "latin1", [0x00, 0x80, 0x9B, 0xA0, 0xFF] },
        { "gbk", Enumerable.Range(0, 1200).Select(i => (byte)(0x80 + i % 0x7F)).ToArray() }, // more than the 512-char stack buffer
    };

    [Theory]
    [MemberData(nameof(AgreementCases))]
    public void WriteEscapedUtf8AndDecodeEscapedAgree(string name, byte[] raw)
    {
        var encoding = MessageEncodings.GetEncoding(name);
        var output = new ArrayBufferWriter<byte>();
        output.Write("prefix:"u8);
        MessageText.WriteEscapedUtf8(raw, encoding, output);
        string decoded = MessageText.DecodeEscaped(raw, encoding);
        Assert.Equal("prefix:" + decoded, Encoding.UTF8.GetString(output.WrittenSpan));
        Assert.Equal(decoded, MessageText.DecodeEscaped(Segments.Chain(raw, raw.Length / 3, 1), encoding));
        Assert.Equal(decoded, MessageText.DecodeEscaped(new ReadOnlySequence<byte>(raw), encoding));

        // The output is terminal-safe: no C0/C1 control and no lone surrogate survives escaping.
        Assert.DoesNotContain(decoded, char.IsControl);
        var check = new byte[decoded.Length * 3];
        Assert.Equal(OperationStatus.Done, System.Text.Unicode.Utf8.FromUtf16(decoded, check, out _, out _, replaceInvalidSequences: false));
    }

    [Fact]
    public void WriteEscapedUtf8RefusesNullArguments()
    {
        Assert.Throws<ArgumentNullException>("encoding", () => MessageText.WriteEscapedUtf8([1], null!, new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentNullException>("output", () => MessageText.WriteEscapedUtf8([1], MessageEncodings.Utf8, null!));
    }
}
