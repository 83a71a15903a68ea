using System.Net;
using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Hosting;

/// <summary>
/// Converts between the text of configuration values (appsettings.json, environment, flags) and the server's types.
/// Each parser says what is wrong in words that follow the setting's name (<c>must be nul, line, octet, u16be or u32be, not 'crlf'</c>).
/// </summary>
public static class SettingText
{
    /// <summary>A Try* parser with the sentence saying why <paramref name="text"/> cannot be used.</summary>
    public delegate bool TryParser<T>(string text, out T value, out string? problem);

    /// <summary>A duration in the grammar of <see cref="DurationText"/> (<c>5s</c>, <c>250ms</c>, <c>2m</c>, <c>00:00:05</c>).</summary>
    public static bool TryParseDuration(string text, out TimeSpan value, out string? problem)
    {
        problem = DurationText.TryParse(text, out value) ? null : $"must be a duration ({DurationText.Examples}), not '{text}'";
        return problem is null;
    }

    /// <summary>One of <see cref="FramingModeNames.All"/>: <c>nul</c>, <c>line</c>, <c>octet</c>, <c>u16be</c>, <c>u32be</c>.</summary>
    public static bool TryParseFraming(string text, out FramingMode value, out string? problem)
    {
        problem = FramingModeNames.TryParse(text, out value) ? null : $"must be {FramingModeNames.AllText}, not '{text}'";
        return problem is null;
    }

    /// <summary>An encoding by name: <c>utf-8</c>, <c>gbk</c>, <c>cp1252</c>... (one that keeps ASCII as single bytes).</summary>
    public static bool TryParseEncoding(string text, out Encoding value, out string? problem)
    {
        problem = MessageText.TryGetEncoding(text, out value, out string? error) ? null : $"'{text}': {error}";
        return problem is null;
    }

    /// <summary>A client network as <see cref="NetworkText"/> reads it, without host bits after the prefix.</summary>
    public static bool TryParseNetwork(string text, out System.Net.IPNetwork value, out string? problem) =>
        NetworkText.TryParse(text, maskHostBits: false, out value, out problem);

    /// <summary>
    /// A listen endpoint, <c>ADDR:PORT</c> (<c>127.0.0.1:9000</c>, <c>[::1]:9000</c>, <c>*:9000</c>); host names are not
    /// resolved. The wording is shared with <c>tcptalk serve --listen</c>.
    /// </summary>
    public static bool TryParseEndpoint(string text, out IPEndPoint value, out string? problem)
    {
        value = new IPEndPoint(IPAddress.None, 0);
        if (!HostAndPort.TryParse(text, -1, out var parsed, out problem))
        {
            return false;
        }

        if (parsed.Port < 0)
        {
            problem = $"give a port, e.g. {parsed.Host}:{HostAndPort.DefaultPort}";
            return false;
        }

        var address = parsed.Host == "*" ? IPAddress.IPv6Any : parsed.Address;
        if (address is null)
        {
            problem = $"'{parsed.Host}' is not an IP address (host names are not resolved here)";
            return false;
        }

        value = new IPEndPoint(address, parsed.Port);
        return true;
    }

    /// <summary>An endpoint as <see cref="TryParseEndpoint"/> reads it back.</summary>
    public static string FormatEndpoint(IPEndPoint endpoint) => endpoint.ToString();

    /// <summary>
    /// A listen address: <c>ADDR:PORT</c> as <see cref="TryParseEndpoint"/> reads it, or a unix socket
    /// <c>unix:/run/tcptalk.sock</c> (<see cref="UnixSocketPath"/>).
    /// </summary>
    public static bool TryParseListenEndpoint(string text, out EndPoint value, out string? problem)
    {
        if (UnixSocketPath.IsUnixAddress(text))
        {
            bool ok = UnixSocketPath.TryParse(text, out string path, out problem);
            value = ok ? new System.Net.Sockets.UnixDomainSocketEndPoint(path) : new IPEndPoint(IPAddress.None, 0);
            return ok;
        }

        bool parsed = TryParseEndpoint(text, out var endpoint, out problem);
        value = endpoint;
        return parsed;
    }

    /// <summary>A listen address as <see cref="TryParseListenEndpoint"/> reads it back.</summary>
    public static string FormatListenEndpoint(EndPoint endpoint) => endpoint switch
    {
        System.Net.Sockets.UnixDomainSocketEndPoint unix => UnixSocketPath.Format(unix.ToString()),
        _ => endpoint.ToString() ?? string.Empty,
    };

    /// <summary>A unix file mode in octal, as chmod takes it: <c>660</c>, <c>0660</c>, <c>666</c> (0 to 777).</summary>
    public static bool TryParseFileMode(string text, out UnixFileMode value, out string? problem)
    {
        value = 0;
        string digits = text.Trim();
        int mode = 0;
        bool ok = digits.Length is > 0 and <= 4;
        foreach (char c in digits)
        {
            ok &= c is >= '0' and <= '7';
            mode = mode * 8 + (c - '0');
        }

        ok &= mode <= 0x1FF;
        problem = ok ? null : $"must be an octal file mode from 0 to 777 (660: owner and group), not '{text}'";
        value = ok ? (UnixFileMode)mode : 0;
        return ok;
    }

    /// <summary>A file mode as <see cref="TryParseFileMode"/> reads it back: four octal digits, <c>0660</c>.</summary>
    public static string FormatFileMode(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');
}
