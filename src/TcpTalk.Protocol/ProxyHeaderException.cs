namespace TcpTalk.Protocol;

/// <summary>
/// The bytes at the start of a connection from a trusted proxy are not a valid PROXY protocol header; the connection
/// must be closed without a greeting. <see cref="Reason"/> is the counter/log key; the message says what was wrong,
/// the limit where there is one, and quotes at most 80 bytes of the input.
/// </summary>
public sealed class ProxyHeaderException : ProtocolException
{
    /// <summary>Creates the exception for <paramref name="reason"/> with a sentence and the offending input.</summary>
    public ProxyHeaderException(ProxyHeaderError reason, string problem, ReadOnlySpan<byte> input)
        : base($"PROXY header: {problem}; it starts {Quote(input)}")
    {
        Reason = reason;
    }

    /// <summary>Which rule the header broke.</summary>
    public ProxyHeaderError Reason { get; }
}

/// <summary>
/// Why a PROXY protocol header was refused: few, stable values, so a server can count them as a metric tag and log
/// them (<see cref="ProxyHeaderErrors.Name(ProxyHeaderError)"/> gives the tag text).
/// </summary>
public enum ProxyHeaderError
{
    /// <summary>The stream starts with neither <c>PROXY</c> nor the v2 signature <c>\r\n\r\n\0\r\nQUIT\n</c>.</summary>
    NotProxyHeader = 1,

    /// <summary>A v1 line that breaks the grammar: unknown protocol, bad address or port, extra or missing fields, a bare CR or LF.</summary>
    V1Malformed,

    /// <summary>A v1 line without CRLF within its first 107 bytes (the specification's maximum, CRLF included).</summary>
    V1TooLong,

    /// <summary>The v2 signature followed by a version nibble other than 2.</summary>
    V2BadVersion,

    /// <summary>A v2 command nibble other than LOCAL (0) or PROXY (1).</summary>
    V2BadCommand,

    /// <summary>A v2 family nibble above AF_UNIX (3) or transport nibble above DGRAM (2), which receivers must reject.</summary>
    V2UnsupportedFamily,

    /// <summary>A v2 length too short for the family's address block (12, 36 or 216 bytes).</summary>
    V2Truncated,

    /// <summary>A v2 header longer, by its length field, than <see cref="ProxyHeaderParser.MaxHeaderBytes"/>.</summary>
    V2TooLong,

    /// <summary>A v2 TLV that overruns the header, a UNIQUE_ID over 128 bytes, or a CRC32C TLV not of 4 bytes.</summary>
    V2BadTlv,

    /// <summary>A v2 PP2_TYPE_CRC32C TLV whose checksum does not match the header.</summary>
    V2ChecksumMismatch,
}

/// <summary>Text forms of <see cref="ProxyHeaderError"/> for metric tags and log lines.</summary>
public static class ProxyHeaderErrors
{
    /// <summary>The reason as a stable lower-case tag: <c>not_proxy_header</c>, <c>v1_malformed</c>, <c>v1_too_long</c>, ...</summary>
    public static string Name(ProxyHeaderError reason) => reason switch
    {
        ProxyHeaderError.NotProxyHeader => "not_proxy_header",
        ProxyHeaderError.V1Malformed => "v1_malformed",
        ProxyHeaderError.V1TooLong => "v1_too_long",
        ProxyHeaderError.V2BadVersion => "v2_bad_version",
        ProxyHeaderError.V2BadCommand => "v2_bad_command",
        ProxyHeaderError.V2UnsupportedFamily => "v2_unsupported_family",
        ProxyHeaderError.V2Truncated => "v2_truncated",
        ProxyHeaderError.V2TooLong => "v2_too_long",
        ProxyHeaderError.V2BadTlv => "v2_bad_tlv",
        ProxyHeaderError.V2ChecksumMismatch => "v2_checksum_mismatch",
        _ => "unknown",
    };
}
