using TcpTalk.Protocol;

namespace TcpTalk.Hosting;

/// <summary>The <c>Journal</c> section: where every message is stored before it is printed or acknowledged (docs/JOURNAL.md).</summary>
public sealed class JournalSettings
{
    private readonly SettingValues _values = new("Journal");
    private long? _maxBytes;
    private TimeSpan? _maxAge;

    /// <summary>
    /// The SQLite journal file, relative to the working directory, or a PostgreSQL journal's
    /// <c>postgres://USER@HOST[:PORT][,HOST2...]/DATABASE[?schema=NAME]</c> URI (several nodes may share one). Default
    /// <c>tcptalk.db</c>: beside where the server was started (the unit in deploy/ starts it in /var/lib/tcptalk).
    /// </summary>
    public string Path { get; set; } = "tcptalk.db";

    /// <summary>
    /// The name this server stores with every message in a PostgreSQL journal (ignored by the SQLite journal), so
    /// nodes sharing one database stay apart. Default the host name.
    /// </summary>
    public string NodeName { get; set; } = Environment.MachineName;

    /// <summary>
    /// Retention by size (<c>--journal-max-bytes</c>, <see cref="TcpTalk.Journal.JournalOptions.MaxBytes"/>): past
    /// it the oldest messages are dropped whole, a read batch at a time, and each drop is logged. A byte count with an
    /// optional unit: <c>500MB</c>, <c>2GiB</c>, <c>1073741824</c>; at least 1 MiB. Default none (empty, or 0):
    /// keep everything. SQLite journal only.
    /// </summary>
    public string? MaxBytes
    {
        get => _maxBytes is { } bytes ? ByteSizeText.Format(bytes) : null;
        set => _values.Parse<long?>(value, ByteSizeText.TryParseLimit, b => _maxBytes = b);
    }

    /// <summary>
    /// Retention by age (<c>--journal-max-age</c>, <see cref="TcpTalk.Journal.JournalOptions.MaxAge"/>): messages
    /// received longer ago are dropped whole, checked once a second while messages arrive, each drop logged. A
    /// duration (<c>7d</c>, <c>12h</c>, <c>30m</c>); at least 1 s. Default none (empty, or 0): keep everything.
    /// SQLite journal only.
    /// </summary>
    public string? MaxAge
    {
        get => _maxAge is { } age ? FormatAge(age) : null;
        set => _values.Parse<TimeSpan?>(value, TryParseAge, a => _maxAge = a);
    }

    /// <summary>Store messages at all. Default true; false (<c>--no-journal</c>) hands messages to the sink only, like the classic server.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The values that could not be parsed, and the ranges <see cref="MaxBytes"/> and <see cref="MaxAge"/> must be in.</summary>
    internal IEnumerable<SettingProblem> FindProblems()
    {
        foreach (var problem in _values.Problems)
        {
            yield return problem;
        }

        if (_maxBytes is < 1 << 20)
        {
            yield return new SettingProblem("Journal:MaxBytes", $"must be at least 1MiB (or 0 to keep everything), not {_values.TextOf(nameof(MaxBytes))}");
        }

        if (_maxAge is { } age && age < TimeSpan.FromSeconds(1))
        {
            yield return new SettingProblem("Journal:MaxAge", $"must be at least 1s (or 0 to keep everything), not {_values.TextOf(nameof(MaxAge))}");
        }

        if ((_maxBytes is not null || _maxAge is not null) && TcpTalk.Journal.Postgres.PostgresJournalUri.IsPostgresUri(Path))
        {
            yield return new SettingProblem(_maxBytes is not null ? "Journal:MaxBytes" : "Journal:MaxAge",
                "applies to a SQLite journal only (a PostgreSQL journal's retention is the database's: partitions or DELETE)");
        }
    }

    /// <summary>The parsed <see cref="MaxBytes"/>: null keeps everything.</summary>
    internal long? GetMaxBytes() => _maxBytes;

    /// <summary>The parsed <see cref="MaxAge"/>: null keeps everything.</summary>
    internal TimeSpan? GetMaxAge() => _maxAge;

    /// <summary>
    /// An age: <c>0</c> or empty for none, else a positive whole or decimal number with a unit of <c>s</c>, <c>m</c>,
    /// <c>h</c>, <c>d</c> or <c>w</c> (<c>30d</c>, <c>12h</c>, <c>1.5d</c>), or the duration grammar of
    /// <see cref="DurationText"/>; at most 100 years.
    /// </summary>
    private static bool TryParseAge(string text, out TimeSpan? value, out string? problem)
    {
        value = null;
        problem = null;
        string trimmed = text.Trim();
        if (trimmed is "" or "0")
        {
            return true;
        }

        double scale = char.ToLowerInvariant(trimmed[^1]) switch { 'd' => 86400, 'w' => 7 * 86400.0, 'h' => 3600, _ => 0 };
        if (scale > 0 && double.TryParse(trimmed[..^1], System.Globalization.NumberStyles.AllowDecimalPoint,
                System.Globalization.CultureInfo.InvariantCulture, out double amount) && amount * scale <= 100 * 365.25 * 86400)
        {
            value = TimeSpan.FromSeconds(Math.Round(amount * scale));
        }
        else if (DurationText.TryParse(trimmed, out var age))
        {
            value = age;
        }
        else
        {
            problem = $"must be an age (30d, 12h, 90m, 2w), not '{text}'";
            return false;
        }

        value = value == TimeSpan.Zero ? null : value;
        return true;
    }

    private static string FormatAge(TimeSpan age) =>
        age.Ticks % TimeSpan.TicksPerDay == 0 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{age.TotalDays:0}d") : DurationText.Format(age);
}
