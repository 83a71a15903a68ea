namespace TcpTalk.Admin;

/// <summary>
/// Maps an instrument's UCUM unit (System.Diagnostics.Metrics, OpenTelemetry semantic conventions) to the Prometheus
/// base unit, the factor that converts a measurement into it, and the name suffix: "ms" becomes seconds (x 0.001,
/// suffix "seconds"), "By" bytes. Annotations in braces ("{connection}") and "1" have no suffix.
/// </summary>
internal readonly record struct PrometheusUnit(string Suffix, double Factor)
{
    public static PrometheusUnit From(string? unit) => unit switch
    {
        null or "" or "1" => new("", 1),
        ['{', .., '}'] => new("", 1),
        "s" => new("seconds", 1),
        "ms" => new("seconds", 1e-3),
        "us" => new("seconds", 1e-6),
        "ns" => new("seconds", 1e-9),
        "min" => new("seconds", 60),
        "h" => new("seconds", 3600),
        "d" => new("seconds", 86400),
        "By" => new("bytes", 1),
        "KBy" => new("bytes", 1e3),
        "MBy" => new("bytes", 1e6),
        "GBy" => new("bytes", 1e9),
        "KiBy" => new("bytes", 1024),
        "MiBy" => new("bytes", 1024 * 1024),
        "GiBy" => new("bytes", 1024 * 1024 * 1024),
        "%" => new("percent", 1),
        _ => new(PrometheusText.LabelName(unit).Trim('_').ToLowerInvariant(), 1),
    };

    /// <summary>
    /// The family name: the sanitized instrument name, plus the unit suffix unless the name already has that word
    /// (tcptalk.server.bytes_received stays tcptalk_server_bytes_received), plus "_total" for counters.
    /// </summary>
    public string FamilyName(string instrumentName, bool counter)
    {
        string name = PrometheusText.MetricName(instrumentName);
        if (Suffix.Length > 0 && !$"_{name}_".Contains($"_{Suffix}_", StringComparison.Ordinal))
        {
            name += "_" + Suffix;
        }

        if (counter && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }

        return name;
    }

    /// <summary>Histogram bucket bounds (upper, inclusive) for this base unit, chosen to cover what a TCP server measures.</summary>
    public double[] DefaultBuckets() => Suffix switch
    {
        // 100 us (a commit on a fast disk) to 1 h (a long session).
        "seconds" => [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
        // A one-word message to the 1 MiB default maximum and beyond.
        "bytes" => [16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216],
        _ => [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
    };
}
