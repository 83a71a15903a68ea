using System.Globalization;

namespace TcpTalk.Hosting;

/// <summary>
/// Byte counts as settings write them: a whole number with an optional unit, decimal (<c>kB</c>, <c>MB</c>,
/// <c>GB</c>, <c>TB</c>: powers of 1000) or binary (<c>KiB</c>, <c>MiB</c>, <c>GiB</c>, <c>TiB</c>: powers of 1024),
/// any case, <c>B</c> or nothing for bytes (<c>500MB</c>, <c>2 GiB</c>, <c>1048576</c>).
/// </summary>
public static class ByteSizeText
{
    private static readonly (string Unit, long Factor)[] Units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("kB", 1000), ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1),
    ];

    /// <summary>Parses <paramref name="text"/>; false, with the sentence why, when it is not a byte count.</summary>
    public static bool TryParse(string text, out long value, out string? problem)
    {
        value = 0;
        problem = $"must be a byte count (500MB, 2GiB, 1048576), not '{text}'";
        string trimmed = text.Trim();
        long factor = 1;
        foreach (var (unit, unitFactor) in Units)
        {
            if (trimmed.EndsWith(unit, StringComparison.OrdinalIgnoreCase))
            {
                trimmed = trimmed[..^unit.Length].TrimEnd();
                factor = unitFactor;
                break;
            }
        }

        if (!long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out long number) || number > long.MaxValue / factor)
        {
            return false;
        }

        value = number * factor;
        problem = null;
        return true;
    }

    /// <summary>Like <see cref="TryParse"/>, but empty text and 0 mean no limit (null).</summary>
    public static bool TryParseLimit(string text, out long? value, out string? problem)
    {
        value = null;
        problem = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (!TryParse(text, out long bytes, out problem))
        {
            return false;
        }

        value = bytes == 0 ? null : bytes;
        return true;
    }

    /// <summary>The shortest exact form of <paramref name="bytes"/>: <c>2GiB</c>, <c>500MB</c>, <c>1234</c>.</summary>
    public static string Format(long bytes)
    {
        foreach (var (unit, factor) in new[] { ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("TB", 1_000_000_000_000), ("GB", 1_000_000_000), ("MB", 1_000_000), ("kB", 1000L) })
        {
            if (bytes != 0 && bytes % factor == 0)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{bytes / factor}{unit}");
            }
        }

        return bytes.ToString(CultureInfo.InvariantCulture);
    }
}
