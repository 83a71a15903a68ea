namespace TcpTalk.Server;

/// <summary>
/// Counts events and says when to log them: the first at once, then at most once a second with the count since the
/// last line, so a flood (of refusals, of failed TLS handshakes) cannot flood the log. Thread-safe, lock-free.
/// </summary>
internal sealed class OncePerSecond(TimeProvider time)
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(1);
    private long _sinceLog;
    private long _lastLog;

    /// <summary>Counts one event; true (with the count to report, this one included) when it is time for a line.</summary>
    public bool TryCount(out long count)
    {
        long now = time.GetTimestamp();
        long since = Interlocked.Increment(ref _sinceLog);
        long last = Interlocked.Read(ref _lastLog);
        if ((last == 0 || time.GetElapsedTime(last, now) >= s_interval)
            && Interlocked.CompareExchange(ref _lastLog, now, last) == last)
        {
            Interlocked.Add(ref _sinceLog, -since);
            count = since;
            return true;
        }

        count = 0;
        return false;
    }
}
