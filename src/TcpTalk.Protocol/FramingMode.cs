namespace TcpTalk.Protocol;

/// <summary>How messages are delimited on the wire. Both directions of a connection use the same framing.</summary>
public enum FramingMode
{
    /// <summary>
    /// Every message ends with one NUL byte (0x00), as the classic C programs send it with
    /// <c>send(s, buf, strlen(buf) + 1, 0)</c>. The default.
    /// </summary>
    Nul = 0,

    /// <summary>Every message ends with LF (0x0A); a CR (0x0D) directly before the LF is dropped.</summary>
    Line = 1,

    /// <summary>
    /// RFC 6587 section 3.4.1 octet counting, as syslog over TCP sends it: <c>MSG-LEN SP MSG</c>, the length in
    /// decimal ASCII without a leading zero, one space, then exactly that many bytes. A message cannot be empty.
    /// </summary>
    Octet = 2,

    /// <summary>A 2-byte big-endian length (the message only, not itself) before each message; 0 is an empty message.</summary>
    U16BE = 3,

    /// <summary>A 4-byte big-endian length (the message only, not itself) before each message; 0 is an empty message.</summary>
    U32BE = 4,
}

/// <summary>Parsing and naming of <see cref="FramingMode"/> values as the command line spells them.</summary>
public static class FramingModeNames
{
    /// <summary>The names accepted by <see cref="TryParse"/>: <c>nul</c>, <c>line</c>, <c>octet</c>, <c>u16be</c>, <c>u32be</c>.</summary>
    public static IReadOnlyList<string> All { get; } = ["nul", "line", "octet", "u16be", "u32be"];

    /// <summary><see cref="All"/> as a sentence lists them: <c>nul, line, octet, u16be or u32be</c>.</summary>
    public static string AllText { get; } = string.Join(", ", All.Take(All.Count - 1)) + " or " + All[^1];

    /// <summary>
    /// Parses one of <see cref="All"/> (case-insensitive; <c>lf</c> is accepted for <c>line</c>,
    /// <c>octet-counted</c> for <c>octet</c>).
    /// </summary>
    public static bool TryParse(string? text, out FramingMode mode)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "nul":
                mode = FramingMode.Nul;
                return true;
            case "line":
            case "lf":
                mode = FramingMode.Line;
                return true;
            case "octet":
            case "octet-counted":
                mode = FramingMode.Octet;
                return true;
            case "u16be":
                mode = FramingMode.U16BE;
                return true;
            case "u32be":
                mode = FramingMode.U32BE;
                return true;
            default:
                mode = default;
                return false;
        }
    }

    /// <summary>The command-line name of <paramref name="mode"/>.</summary>
    public static string ToName(this FramingMode mode) => mode switch
    {
        FramingMode.Line => "line",
        FramingMode.Octet => "octet",
        FramingMode.U16BE => "u16be",
        FramingMode.U32BE => "u32be",
        _ => "nul",
    };

    /// <summary>Whether <paramref name="mode"/> puts a length before each message instead of a terminator after it.</summary>
    public static bool IsLengthPrefixed(this FramingMode mode) => mode is FramingMode.Octet or FramingMode.U16BE or FramingMode.U32BE;
}
