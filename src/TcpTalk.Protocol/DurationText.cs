using System.Globalization;

namespace TcpTalk.Protocol;

/// <summary>
/// The one duration grammar of TcpTalk, for flags, configuration values and the sentences it shows people:
/// <c>250ms</c>, <c>5s</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c>, a bare number of seconds (<c>5</c>), or .NET's
/// <c>00:00:05</c>. <see cref="Format"/> writes what <see cref="TryParse"/> reads back.
/// </summary>
public static class DurationText
{
    /// <summary>Examples of the grammar, for error messages: <c>5s, 250ms, 2m</c>.</summary>
    public const string Examples = "5s, 250ms, 2m";

    /// <summary>
    /// The longest duration parsed: one day. Every TcpTalk timeout is at most a day, and the bound keeps a typo
    /// (<c>5000000</c>) from becoming a timer that never fires or overflows.
    /// </summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(1);

    /// <summary>
    /// Parses <paramref name="text"/> (surrounding blanks ignored, units case-insensitive). False for anything
    /// else, for a negative duration and for one longer than <see cref="Longest"/>.
    /// </summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        string trimmed = (text ?? "").Trim();
        if (trimmed.Contains(':', StringComparison.Ordinal))
        {
            // .NET's own spelling, as appsettings.json files written for other tools use it.
            if (TimeSpan.TryParse(trimmed, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero && span <= Longest)
            {
                value = span;
                return true;
            }

            return false;
        }

        (string number, double scale) = trimmed switch
        {
            _ when trimmed.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (trimmed[..^2], 0.001),
            _ when trimmed.EndsWith('s') || trimmed.EndsWith('S') => (trimmed[..^1], 1.0),
            _ when trimmed.EndsWith('m') || trimmed.EndsWith('M') => (trimmed[..^1], 60.0),
            _ when trimmed.EndsWith('h') || trimmed.EndsWith('H') => (trimmed[..^1], 3600.0),
            _ => (trimmed, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double amount)
            || double.IsNaN(amount) || amount * scale > Longest.TotalSeconds)
        {
            return false;
        }

        value = TimeSpan.FromSeconds(amount * scale);
        return true;
    }

    /// <summary>
    /// The shortest of <c>250ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c> that says <paramref name="time"/> exactly (to the
    /// microsecond): whole hours as <c>h</c>, whole minutes as <c>m</c>, whole seconds as <c>s</c>, anything else in
    /// milliseconds. Zero is <c>0s</c>. Parses back with <see cref="TryParse"/> (a negative value, which it refuses,
    /// is written with a minus sign).
    /// </summary>
    public static string Format(TimeSpan time)
    {
        if (time < TimeSpan.Zero)
        {
            return "-" + Format(time.Duration());
        }

        return time switch
        {
            _ when time.Ticks % TimeSpan.TicksPerSecond != 0 => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0.###}ms"),
            _ when time > TimeSpan.Zero && time.Ticks % TimeSpan.TicksPerHour == 0 => string.Create(CultureInfo.InvariantCulture, $"{time.TotalHours:0}h"),
            _ when time > TimeSpan.Zero && time.Ticks % TimeSpan.TicksPerMinute == 0 => string.Create(CultureInfo.InvariantCulture, $"{time.TotalMinutes:0}m"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{time.TotalSeconds:0}s"),
        };
    }
}
