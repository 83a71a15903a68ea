using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Configuration;

/// <summary>
/// Converts between the text of configuration values (appsettings.json, environment, flags) and the server's
/// types. Parse failures throw <see cref="SettingValueException"/> for the calling property.
/// </summary>
internal static class SettingText
{
    /// <summary>A duration as people type it (<c>5s</c>, <c>250ms</c>, <c>2m</c>, <c>5</c> = seconds) or .NET's <c>00:00:05</c>.</summary>
    public static TimeSpan ParseDuration(string? text, [CallerMemberName] string property = "")
    {
        string value = text ?? "";
        if (value.Contains(':', StringComparison.Ordinal)
            && TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero)
        {
            return span;
        }

        return Duration.TryParse(value, out var duration)
            ? duration
            : throw new SettingValueException($"must be a duration (5s, 250ms, 2m), not '{value}'", property);
    }

    /// <summary>The shortest of <c>250ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c> that says <paramref name="value"/> exactly; parses back.</summary>
    public static string FormatDuration(TimeSpan value) => value switch
    {
        _ when value.Ticks % TimeSpan.TicksPerSecond != 0 => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0.###}ms"),
        _ when value > TimeSpan.Zero && value.Ticks % TimeSpan.TicksPerHour == 0 => string.Create(CultureInfo.InvariantCulture, $"{value.TotalHours:0}h"),
        _ when value > TimeSpan.Zero && value.Ticks % TimeSpan.TicksPerMinute == 0 => string.Create(CultureInfo.InvariantCulture, $"{value.TotalMinutes:0}m"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0}s"),
    };

    /// <summary><c>nul</c> or <c>line</c>.</summary>
    public static FramingMode ParseFraming(string? text, [CallerMemberName] string property = "") =>
        FramingModeNames.TryParse(text, out var mode) ? mode
            : throw new SettingValueException($"must be {string.Join(" or ", FramingModeNames.All)}, not '{text}'", property);

    /// <summary>
    /// A listen endpoint, <c>ADDR:PORT</c> (<c>127.0.0.1:9000</c>, <c>[::1]:9000</c>, <c>*:9000</c>); host names are not
    /// resolved. The error wording is shared with <c>serve --listen</c>.
    /// </summary>
    public static bool TryParseEndpoint(string text, out IPEndPoint endpoint, out string? error)
    {
        endpoint = new IPEndPoint(IPAddress.None, 0);
        if (!HostAndPort.TryParse(text, -1, out var parsed, out error))
        {
            return false;
        }

        if (parsed.Port < 0)
        {
            error = $"give a port, e.g. {parsed.Host}:{HostAndPort.DefaultPort}";
            return false;
        }

        var address = parsed.Host == "*" ? IPAddress.IPv6Any : parsed.Address;
        if (address is null)
        {
            error = $"'{parsed.Host}' is not an IP address (host names are not resolved here)";
            return false;
        }

        endpoint = new IPEndPoint(address, parsed.Port);
        return true;
    }

    /// <summary>An endpoint as <see cref="TryParseEndpoint"/> reads it back.</summary>
    public static string FormatEndpoint(IPEndPoint endpoint) => endpoint.ToString();

    /// <summary>Replaces <paramref name="target"/> with the parsed <paramref name="values"/>; the first bad one throws.</summary>
    public static void ReplaceAll<T>(IList<T> target, string[]? values, TryParser<T> parse, [CallerMemberName] string property = "")
    {
        var parsed = new List<T>();
        foreach (string value in values ?? [])
        {
            if (!parse(value, out var item, out string? error))
            {
                throw new SettingValueException($"'{value}': {error}", property);
            }

            parsed.Add(item);
        }

        target.Clear();
        foreach (var item in parsed)
        {
            target.Add(item);
        }
    }

    /// <summary>A Try* parser with an error sentence.</summary>
    public delegate bool TryParser<T>(string text, out T value, out string? error);
}
