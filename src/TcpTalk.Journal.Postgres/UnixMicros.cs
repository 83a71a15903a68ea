namespace TcpTalk.Journal.Postgres;

/// <summary>The journal's time unit, as in the embedded journal: microseconds since 1970-01-01T00:00:00Z, in a bigint.</summary>
internal static class UnixMicros
{
    public static long From(DateTimeOffset time) => (time.UtcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMicrosecond;

    public static DateTimeOffset ToTime(long micros) => new(DateTime.UnixEpoch.Ticks + micros * TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
}
