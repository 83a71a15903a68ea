using System.Globalization;
using System.Text;

namespace TcpTalk.Admin;

/// <summary>
/// The pieces of the Prometheus text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
/// metric and label names, escaping, numbers. Pure functions, shared by every writer of /metrics.
/// </summary>
internal static class PrometheusText
{
    /// <summary>The Content-Type of a 0.0.4 exposition.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Replaces every character that is not allowed in a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) by '_'.</summary>
    public static string MetricName(string name) => Sanitize(name, allowColon: true);

    /// <summary>Replaces every character not allowed in a label name ([a-zA-Z_][a-zA-Z0-9_]*) by '_'.</summary>
    public static string LabelName(string name) => Sanitize(name, allowColon: false);

    private static string Sanitize(string name, bool allowColon)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        var chars = name.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
        {
            char c = chars[i];
            bool ok = char.IsAsciiLetter(c) || c == '_' || (allowColon && c == ':') || (i > 0 && char.IsAsciiDigit(c));
            if (!ok)
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    /// <summary>Appends a HELP text: backslash and line feed escaped.</summary>
    public static void AppendHelp(StringBuilder text, string help)
    {
        foreach (char c in help)
        {
            _ = c switch
            {
                '\\' => text.Append(@"\\"),
                '\n' => text.Append(@"\n"),
                '\r' => text,
                _ => text.Append(c),
            };
        }
    }

    /// <summary>Appends a label value: backslash, double quote and line feed escaped.</summary>
    public static void AppendLabelValue(StringBuilder text, string value)
    {
        foreach (char c in value)
        {
            _ = c switch
            {
                '\\' => text.Append(@"\\"),
                '"' => text.Append("\\\""),
                '\n' => text.Append(@"\n"),
                _ => text.Append(c),
            };
        }
    }

    /// <summary>A sample value or bucket bound as Prometheus (Go's ParseFloat) reads it: shortest round-trip form, +Inf, -Inf, NaN.</summary>
    public static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
