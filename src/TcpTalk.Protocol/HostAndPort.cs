using System.Globalization;
using System.Net;

namespace TcpTalk.Protocol;

/// <summary>
/// A host (name or IP literal) and a TCP port as users type them: <c>host</c>, <c>host:9000</c>, <c>127.0.0.1:9000</c>,
/// <c>[::1]:9000</c>, <c>::1</c> or <c>[::1]</c>.
/// </summary>
public readonly record struct HostAndPort(string Host, int Port)
{
    /// <summary>The port of the classic programs and TcpTalk's default: 12345.</summary>
    public const int DefaultPort = 12345;

    /// <summary>The host as an IP address, when it is a literal.</summary>
    public IPAddress? Address => IPAddress.TryParse(Host, out var address) ? address : null;

    /// <summary>
    /// Parses <paramref name="text"/>; the port is <paramref name="defaultPort"/> when not given. On failure
    /// <paramref name="error"/> is one line saying why, the user's text in it escaped.
    /// </summary>
    public static bool TryParse(string? text, int defaultPort, out HostAndPort result, out string? error)
    {
        bool parsed = TryParseUnescaped(text, defaultPort, out result, out error);
        error = error is null ? null : MessageText.Escape(error);
        return parsed;
    }

    private static bool TryParseUnescaped(string? text, int defaultPort, out HostAndPort result, out string? error)
    {
        result = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "no host given";
            return false;
        }

        if (UnixSocketPath.IsUnixAddress(text))
        {
            // unix:/path: the whole text is the host, and there is no port.
            if (!UnixSocketPath.TryParse(text, out _, out error))
            {
                return false;
            }

            result = new HostAndPort(text, 0);
            return true;
        }

        string host = text;
        string? portText = null;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"'{text}' has a '[' without a matching ']'";
                return false;
            }

            host = text[1..close];
            string rest = text[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    error = $"'{text}' has text after ']' that is not ':PORT'";
                    return false;
                }

                portText = rest[1..];
            }

            if (!IPAddress.TryParse(host, out var literal) || literal.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                error = $"'{host}' in brackets is not an IPv6 address";
                return false;
            }
        }
        else
        {
            int colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':', StringComparison.Ordinal) == colon)
            {
                host = text[..colon];
                portText = text[(colon + 1)..];
            }
            else if (colon >= 0
                && (!IPAddress.TryParse(text, out var literal) || literal.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6))
            {
                // Several colons and no brackets can only be a bare IPv6 literal without a port.
                error = $"'{text}' has several ':' but is not an IPv6 address (write an IPv6 address with a port as [ADDRESS]:PORT)";
                return false;
            }
        }

        int port = defaultPort;
        if (portText is not null && !TryParsePort(portText, out port))
        {
            error = $"'{portText}' is not a port number (0-65535)";
            return false;
        }

        if (host.Length == 0)
        {
            error = $"'{text}' has no host before the port";
            return false;
        }

        result = new HostAndPort(host, port);
        error = null;
        return true;
    }

    /// <summary>Parses a port number 0-65535.</summary>
    public static bool TryParsePort(string text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= 65535;

    /// <summary>Whether this is a unix socket, <c>unix:/path</c> (<see cref="UnixSocketPath"/>): then <see cref="Host"/> is all of it and <see cref="Port"/> is 0.</summary>
    public bool IsUnixSocket => UnixSocketPath.IsUnixAddress(Host);

    /// <summary>The form users type: <c>host:port</c>, IPv6 literals in brackets; <c>unix:/path</c> for a unix socket.</summary>
    public override string ToString() => IsUnixSocket ? Host : Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
