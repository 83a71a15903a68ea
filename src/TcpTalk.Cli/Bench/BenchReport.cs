using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace TcpTalk.Cli.Bench;

/// <summary>Prints a <see cref="BenchResult"/>: a summary table for people, or one JSON object for programs.</summary>
internal static class BenchReport
{
    /// <summary>The result as one line of JSON (snake_case names, latencies in microseconds).</summary>
    public static string ToJson(BenchResult result) => JsonSerializer.Serialize(result, BenchJsonContext.Default.BenchResult);

    /// <summary>The summary table: the mode's rate, the latency percentiles and the errors by kind.</summary>
    public static Table ToTable(BenchResult result)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("figure").AddColumn(new TableColumn("value").RightAligned());
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));

        Row("target", $"{result.Host}:{result.Port} ({result.Address}){(result.Tls ? ", TLS" : "")}");
        Row("load", $"{result.Mode}, {Count(result.Connections)} conns, {result.MessageBytes} B, {result.Framing}");
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
                break;
            default:
                Row("greeted", $"{Count(result.Greeted)} of {Count(result.Connections)}");
                Row("all greeted after", $"{Number(result.EstablishMs, 1)} ms");
                Row("dropped by the server", Count(result.Dropped));
                break;
        }

        var latency = result.LatencyUs;
        string what = latency.Kind == "session" ? "latency, connect to close" : "latency, connect to greeting";
        Row(what, $"n={Count(latency.Count)}");
        Row("  p50", Micros(latency.P50));
        Row("  p90", Micros(latency.P90));
        Row("  p99", Micros(latency.P99));
        Row("  p99.9", Micros(latency.P999));
        Row("  max", Micros(latency.Max));
        long total = result.Errors["total"];
        Row("errors", total == 0 ? "0" : $"{Count(total)}: " + string.Join(", ",
            result.Errors.Where(e => e.Key != "total" && e.Value > 0).Select(e => $"{e.Key} {Count(e.Value)}")));
        return table;
    }

    private static string Micros(double value) => value >= 10_000 ? $"{Number(value / 1000, 2)} ms" : $"{Number(value, 1)} µs";

    private static string Number(double value, int decimals) => value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
