using System.Collections;
using System.Globalization;
using System.Text;
using TcpTalk.Protocol;

namespace TcpTalk.Cli.Commands;

/// <summary>
/// Writes a value the way a user types it after its flag (<c>10s</c>, <c>utf-8</c>, <c>nul</c>, <c>session</c>),
/// so that help and completions show spellings the flag accepts, lower case as the docs write them.
/// </summary>
internal static class FlagText
{
    /// <summary>
    /// The flag spelling of <paramref name="value"/>, chosen by its type: a duration as <see cref="DurationText.Format"/> writes it, an
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

    /// <summary>A duration as every duration flag parses it: the one formatter, <see cref="DurationText.Format"/>.</summary>
    public static string Duration(TimeSpan time) => DurationText.Format(time);

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
