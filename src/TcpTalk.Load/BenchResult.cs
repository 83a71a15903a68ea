using System.Diagnostics;
using System.Text.Json.Serialization;
using TcpTalk.Protocol;

namespace TcpTalk.Load;

/// <summary>
/// The figures of one run, named and computed as <c>tcpload</c>'s JSON line names and computes them (the rates and
/// latency percentiles are comparable one to one); <c>tcptalk bench --json</c> prints this object.
/// </summary>
public sealed class BenchResult
{
    /// <summary>The mode: <c>session</c>, <c>stream</c> or <c>hold</c>.</summary>
    public required string Mode { get; init; }

    /// <summary>The server as given (<see cref="BenchOptions.Host"/>).</summary>
    public required string Host { get; init; }

    /// <summary>The server's port (0 for a unix socket).</summary>
    public required int Port { get; init; }

    /// <summary>The address the load went to (<c>unix</c> for a unix socket: <see cref="Host"/> is then <c>unix:/path</c>).</summary>
    public required string Address { get; init; }

    /// <summary>Concurrent connections (<see cref="BenchOptions.Connections"/>).</summary>
    public required int Connections { get; init; }

    /// <summary>Payload bytes per message (<see cref="BenchOptions.MessageBytes"/>); hold mode sends none.</summary>
    public required int MessageBytes { get; init; }

    /// <summary>The framing as <c>--framing</c> spells it: <c>nul</c>, <c>line</c>, <c>octet</c>, <c>u16be</c> or <c>u32be</c>.</summary>
    public required string Framing { get; init; }

    /// <summary>Whether the load went over TLS.</summary>
    public required bool Tls { get; init; }

    /// <summary>The load window asked for (--duration); null when only --messages bounds the run.</summary>
    public double? DurationS { get; init; }

    /// <summary>--messages; null when not given.</summary>
    public long? MessagesLimit { get; init; }

    /// <summary>Time from the start to the last connection's end (in-flight sessions and drains included).</summary>
    public double ElapsedS { get; init; }

    /// <summary>Whether Ctrl+C / SIGTERM cut the run short.</summary>
    public bool Interrupted { get; init; }

    /// <summary>Connect calls made.</summary>
    public long Attempted { get; init; }

    /// <summary>Connections the server accepted (TCP).</summary>
    public long Established { get; init; }

    /// <summary>Connections whose greeting arrived.</summary>
    public long Greeted { get; init; }

    /// <summary>Hold mode: connections the server closed while held.</summary>
    public long Dropped { get; init; }

    /// <summary>Session mode: sessions completed (the server closed after the message).</summary>
    public long Sessions { get; init; }

    /// <summary>Session mode: sessions completed inside the load window.</summary>
    public long SessionsInWindow { get; init; }

    /// <summary>Session mode: <see cref="SessionsInWindow"/> divided by the window (shorter if the run ended early).</summary>
    public double SessionsPerS { get; init; }

    /// <summary>Session mode: slots that completed no session (unfairness or failure).</summary>
    public long StarvedSlots { get; init; }

    /// <summary>Whole messages sent (session: one per session that got that far).</summary>
    public long Messages { get; init; }

    /// <summary>Stream mode: <see cref="Messages"/> divided by the time to the server's last close (drain included).</summary>
    public double MessagesPerS { get; init; }

    /// <summary>Bytes sent, terminators included.</summary>
    public long Bytes { get; init; }

    /// <summary>Stream mode: megabytes (10^6) per second over the same time as <see cref="MessagesPerS"/>.</summary>
    public double MbPerS { get; init; }

    /// <summary>Time from the start to the last greeting (stream and hold mode).</summary>
    public double EstablishMs { get; init; }

    /// <summary>Stream mode: time from the end of the window to the server's last close.</summary>
    public double DrainMs { get; init; }

    /// <summary>Errors by kind (<c>refused</c>, <c>reset</c>, <c>timeout</c>, <c>bad_greeting</c>, <c>closed</c>, <c>addr</c>, <c>tls</c>, <c>other</c>), and <c>total</c>.</summary>
    public required Dictionary<string, long> Errors { get; init; }

    /// <summary>The latency percentiles, in microseconds.</summary>
    public required LatencySummary LatencyUs { get; init; }

    /// <summary>Stream mode with acks: acknowledgements received; null without acks.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public long? Acks { get; init; }

    /// <summary>Stream mode with acks: acknowledgements per second over the run; null without acks.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public double? AcksPerS { get; init; }

    /// <summary>Stream mode with acks: from the write carrying a message to its ack; null without acks.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public LatencySummary? AckLatencyUs { get; init; }

    /// <summary>The figures of <paramref name="run"/>, which started at <paramref name="start"/>, whose load window ended at <paramref name="windowEnd"/> and whose last connection ended at <paramref name="finish"/> (timestamps).</summary>
    internal static BenchResult From(BenchRun run, LoadTarget target, long start, long windowEnd, long finish, IReadOnlyList<LoadSlot> slots)
    {
        var options = run.Options;
        var counters = run.Counters;
        double elapsed = Seconds(finish - start);
        double window = Seconds(windowEnd - start);
        long spanEnd = windowEnd;
        if (options.Mode == BenchMode.Stream && counters.LastClose > spanEnd)
        {
            spanEnd = counters.LastClose;
        }

        double span = Seconds(spanEnd - start);
        var errors = new Dictionary<string, long>();
        foreach (var kind in BenchErrorKinds.All)
        {
            errors[kind.ToName()] = counters.Errors(kind);
        }

        errors["total"] = counters.TotalErrors;
        var latency = counters.Latency;
        bool acked = options.Mode == BenchMode.Stream && options.Acknowledged;
        return new BenchResult
        {
            Mode = options.Mode.ToString().ToLowerInvariant(),
            Host = options.Host,
            Port = target.Address is System.Net.IPEndPoint ip ? ip.Port : 0,
            Address = target.Address is System.Net.IPEndPoint endpoint ? endpoint.Address.ToString() : "unix",
            Connections = options.Connections,
            MessageBytes = options.MessageBytes,
            Framing = options.Framing.ToName(),
            Tls = target.Tls is not null,
            DurationS = options.Duration?.TotalSeconds,
            MessagesLimit = options.Messages,
            ElapsedS = Math.Round(elapsed, 3),
            Interrupted = run.Clock.Interrupted,
            Attempted = counters.Attempted,
            Established = counters.Established,
            Greeted = counters.Greeted,
            Dropped = counters.Dropped,
            Sessions = counters.Sessions,
            SessionsInWindow = counters.SessionsInWindow,
            SessionsPerS = Rate(counters.SessionsInWindow, window),
            StarvedSlots = options.Mode == BenchMode.Session ? slots.Count(s => s.Completed == 0) : 0,
            Messages = counters.Messages,
            MessagesPerS = Rate(counters.Messages, span),
            Bytes = counters.Bytes,
            MbPerS = span > 0 ? Math.Round(counters.Bytes / span / 1e6, 2) : 0,
            EstablishMs = counters.LastGreeting == 0 ? 0 : Math.Round(Seconds(counters.LastGreeting - start) * 1e3, 1),
            DrainMs = options.Mode == BenchMode.Stream && counters.LastClose > windowEnd ? Math.Round(Seconds(counters.LastClose - windowEnd) * 1e3, 1) : 0,
            Errors = errors,
            LatencyUs = Summary(options.Mode == BenchMode.Session ? "session" : "greeting", latency),
            Acks = acked ? counters.Acks : null,
            AcksPerS = acked ? Rate(counters.Acks, span) : null,
            AckLatencyUs = acked ? Summary("ack", counters.AckLatency) : null,
        };
    }

    private static LatencySummary Summary(string kind, LatencyHistogram latency) => new()
    {
        Kind = kind,
        Count = latency.Count,
        Min = Micro(latency.Min),
        Mean = Micro(latency.Mean),
        P50 = Micro(latency.ValueAtPercentile(50)),
        P90 = Micro(latency.ValueAtPercentile(90)),
        P99 = Micro(latency.ValueAtPercentile(99)),
        P999 = Micro(latency.ValueAtPercentile(99.9)),
        Max = Micro(latency.Max),
    };

    private static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;

    private static double Rate(long count, double seconds) => seconds > 0 ? Math.Round(count / seconds, 1) : 0;

    private static double Micro(double nanoseconds) => Math.Round(nanoseconds / 1000, 1);
}

/// <summary>Latency percentiles in microseconds, from the run's log-linear histogram (tcpload's layout).</summary>
public sealed class LatencySummary
{
    /// <summary><c>session</c> (connect call to the server's close) or <c>greeting</c> (connect call to the greeting).</summary>
    public required string Kind { get; init; }

    /// <summary>Samples recorded.</summary>
    public long Count { get; init; }

    /// <summary>The smallest sample.</summary>
    public double Min { get; init; }

    /// <summary>The mean of the samples.</summary>
    public double Mean { get; init; }

    /// <summary>The median.</summary>
    public double P50 { get; init; }

    /// <summary>The 90th percentile.</summary>
    public double P90 { get; init; }

    /// <summary>The 99th percentile.</summary>
    public double P99 { get; init; }

    /// <summary>The 99.9th percentile.</summary>
    public double P999 { get; init; }

    /// <summary>The largest sample.</summary>
    public double Max { get; init; }
}

/// <summary>Source-generated JSON for <see cref="BenchResult"/> (NativeAOT: no reflection).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(BenchResult))]
internal sealed partial class BenchJsonContext : JsonSerializerContext;
