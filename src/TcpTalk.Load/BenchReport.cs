using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace TcpTalk.Load;

/// <summary>Prints a <see cref="BenchResult"/>: a summary table for people, or one JSON object for programs.</summary>
public static class BenchReport
{
    /// <summary>The result as one line of JSON (snake_case names, latencies in microseconds).</summary>
    public static string ToJson(BenchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return JsonSerializer.Serialize(result, BenchJsonContext.Default.BenchResult);
    }

    /// <summary>
    /// Writes the summary of <paramref name="result"/> to <paramref name="console"/>: a table of the mode's figures and
    /// errors, then the latency percentiles in one unit, chosen from the values and named in the column header.
    /// </summary>
    public static void Write(BenchResult result, IAnsiConsole console)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(console);
        var figures = Figures(result);
        var latency = result.LatencyUs;
        var unit = LatencyUnit.For(latency.P50);
        string what = latency.Kind == "session" ? "latency, connect to close" : "latency, connect to greeting";
        (string, string)[] percentiles =
        [
            ("p50", unit.Format(latency.P50)),
            ("p90", unit.Format(latency.P90)),
            ("p99", unit.Format(latency.P99)),
            ("p99.9", unit.Format(latency.P999)),
            ("max", unit.Format(latency.Max)),
        ];

        // Both tables get the same column widths, so they read as one.
        string latencyHeader = $"{what} (n={Count(latency.Count)})";
        int names = figures.Concat(percentiles).Select(r => r.Item1.Length).Append(latencyHeader.Length).Append("figure".Length).Max();
        int values = figures.Concat(percentiles).Select(r => r.Item2.Length).Append(unit.Name.Length).Append("value".Length).Max();
        console.Write(Table("figure", "value", figures, names, values));
        console.Write(Table(latencyHeader, unit.Name, percentiles, names, values));
    }

    /// <summary>The rows of the figures table: what was loaded, the mode's rate and counts, the errors by kind.</summary>
    internal static List<(string Name, string Value)> Figures(BenchResult result)
    {
        var rows = new List<(string, string)>();
        void Row(string name, string value) => rows.Add((name, value));

        // Hold mode sends no messages, so it has no message size to show.
        string size = result.Mode == "hold" ? "" : $"{result.MessageBytes} B, ";
        string target = result.Address == "unix" ? result.Host : $"{result.Host}:{result.Port} ({result.Address})";
        Row("target", $"{target}{(result.Tls ? ", TLS" : "")}");
        Row("load", $"{result.Mode}, {Count(result.Connections)} conns, {size}{result.Framing}");
        Row("elapsed", $"{Number(result.ElapsedS, 2)} s{(result.Interrupted ? " (interrupted)" : "")}");
        switch (result.Mode)
        {
            case "session":
                Row("sessions/s", Number(result.SessionsPerS, 0));
                Row("sessions", $"{Count(result.Sessions)} ({Count(result.SessionsInWindow)} in the window)");
                Row("starved slots", Count(result.StarvedSlots));
                break;
            case "stream":
                Row("messages/s", Number(result.MessagesPerS, 0));
                Row("MB/s", Number(result.MbPerS, 2));
                Row("messages", Count(result.Messages));
                Row("drain", $"{Number(result.DrainMs, 1)} ms");
                if (result.AckLatencyUs is { } ack)
                {
                    var ackUnit = LatencyUnit.For(ack.P50);
                    Row("acks", $"{Count(result.Acks ?? 0)} ({Number(result.AcksPerS ?? 0, 0)}/s)");
                    Row("ack latency p50 / p99", $"{ackUnit.Format(ack.P50)} / {ackUnit.Format(ack.P99)} {ackUnit.Name}");
                }

                break;
            default:
                Row("greeted", $"{Count(result.Greeted)} of {Count(result.Connections)}");
                Row("all greeted after", $"{Number(result.EstablishMs, 1)} ms");
                Row("dropped by the server", Count(result.Dropped));
                break;
        }

        long total = result.Errors.TryGetValue("total", out long sum) ? sum : 0;
        Row("errors", total == 0 ? "0" : $"{Count(total)}: " + string.Join(", ",
            result.Errors.Where(e => e.Key != "total" && e.Value > 0).Select(e => $"{e.Key} {Count(e.Value)}")));
        return rows;
    }

    private static Table Table(string nameHeader, string valueHeader, IEnumerable<(string Name, string Value)> rows, int nameWidth, int valueWidth)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn(Markup.Escape(nameHeader)).Width(nameWidth))
            .AddColumn(new TableColumn(Markup.Escape(valueHeader)).Width(valueWidth).RightAligned());
        foreach (var (name, value) in rows)
        {
            table.AddRow(Markup.Escape(name), Markup.Escape(value));
        }

        return table;
    }

    internal static string Number(double value, int decimals) => value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}

/// <summary>The one unit a column of latencies (in microseconds) is shown in, and its digits.</summary>
internal readonly record struct LatencyUnit(string Name, double MicrosecondsPerUnit, int Decimals)
{
    /// <summary>
    /// The unit for a column whose typical value (the median) is <paramref name="medianUs"/> microseconds: µs below
    /// 1 ms, ms below 1 s, else s; the tail may then run to large numbers, but never to a different unit.
    /// </summary>
    public static LatencyUnit For(double medianUs) => medianUs switch
    {
        < 1_000 => new LatencyUnit("µs", 1, 1),
        < 1_000_000 => new LatencyUnit("ms", 1_000, 2),
        _ => new LatencyUnit("s", 1_000_000, 3),
    };

    /// <summary><paramref name="microseconds"/> in this unit, without the unit's name.</summary>
    public string Format(double microseconds) => BenchReport.Number(microseconds / MicrosecondsPerUnit, Decimals);
}
