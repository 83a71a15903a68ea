using System.Collections;
using System.Globalization;
using System.Text;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// Writes a value the way a user types it after its flag (<c>10s</c>, <c>utf-8</c>, <c>nul</c>, <c>session</c>),
/// so that help and completions show spellings the flag accepts, lower case as the docs write them.
/// </summary>
internal static class FlagText
{
    /// <summary>
    /// The flag spelling of <paramref name="value"/>, chosen by its type: a duration as <c>Duration</c> writes it, an
    /// encoding by its web name, an enum member by its name in lower case (words joined by '-'), a number in the
    /// invariant culture; null when there is nothing to show (null, an empty list).
    /// </summary>
    public static string? Format(object? value) => value switch
    {
        null => null,
        string text => text,
        bool flag => flag ? "true" : "false",
        TimeSpan time => Duration(time),
        Encoding encoding => encoding.WebName,
        Enum member => EnumName(member.ToString()),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable items => List(items),
        _ => value.ToString(),
    };

    /// <summary>
    /// A duration as the duration flags parse it (see <c>Duration.TryParse</c>): <c>0</c>, <c>250ms</c>, <c>1.5s</c>,
    /// seconds up to <c>99s</c> (so <c>60s</c> as the docs write it), then whole minutes (<c>2m</c>) or hours.
    /// </summary>
    /// <remarks>
    /// Not <c>DurationText.Format</c>: that one writes sentences (<c>5 s</c>, with a space), which the flags reject.
    /// </remarks>
    public static string Duration(TimeSpan time)
    {
        if (time == TimeSpan.Zero)
        {
            return "0";
        }

        double seconds = time.TotalSeconds;
        if (seconds < 1)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{time.TotalMilliseconds:0.###}ms");
        }

        if (seconds < 100 || seconds % 60 != 0)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{seconds:0.###}s");
        }

        double minutes = seconds / 60;
        return minutes < 100 || minutes % 60 != 0
            ? string.Create(CultureInfo.InvariantCulture, $"{minutes:0}m")
            : string.Create(CultureInfo.InvariantCulture, $"{minutes / 60:0}h");
    }

    /// <summary><c>Nul</c> becomes <c>nul</c>, <c>HoldOpen</c> becomes <c>hold-open</c>.</summary>
    public static string EnumName(string name)
    {
        var text = new StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && !char.IsUpper(name[i - 1]))
            {
                text.Append('-');
            }

            text.Append(char.ToLowerInvariant(name[i]));
        }

        return text.ToString();
    }

    private static string? List(IEnumerable items)
    {
        var parts = items.Cast<object?>().Select(Format).Where(p => !string.IsNullOrEmpty(p)).ToList();
        return parts.Count == 0 ? null : string.Join(", ", parts);
    }
}
