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
}

/// <summary>Parsing and naming of <see cref="FramingMode"/> values as the command line spells them.</summary>
public static class FramingModeNames
{
    /// <summary>The names accepted by <see cref="TryParse"/>: <c>nul</c> and <c>line</c>.</summary>
    public static IReadOnlyList<string> All { get; } = ["nul", "line"];

    /// <summary>Parses <c>nul</c> or <c>line</c> (case-insensitive; <c>lf</c> is accepted for <c>line</c>).</summary>
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
            default:
                mode = default;
                return false;
        }
    }

    /// <summary>The command-line name of <paramref name="mode"/>.</summary>
    public static string ToName(this FramingMode mode) => mode == FramingMode.Line ? "line" : "nul";
}
