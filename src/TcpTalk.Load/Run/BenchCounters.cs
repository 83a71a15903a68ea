using System.Diagnostics;

namespace TcpTalk.Load;

/// <summary>
/// What the load connections did, counted as they do it (Interlocked, from any thread): <c>tcpload</c>'s counters,
/// its latency histogram and the time of the last greeting and the last server close.
/// </summary>
internal sealed class BenchCounters
{
    private static readonly double NanosecondsPerTick = 1e9 / Stopwatch.Frequency;

    private readonly long[] _errors = new long[BenchErrorKinds.All.Count];
    private long _attempted, _established, _greeted, _dropped, _sessions, _sessionsInWindow, _messages, _bytes;
    private long _bytesWritten, _lastGreeting, _lastClose;
    private long _acks;

    /// <summary>Latency in nanoseconds: session mode, connect call to the server's close; otherwise connect call to greeting.</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>Stream mode with acks: nanoseconds from the write carrying a message to its <c>ack</c>.</summary>
    public LatencyHistogram AckLatency { get; } = new();

    /// <summary>Acknowledgements received (stream mode with acks).</summary>
    public long Acks => Volatile.Read(ref _acks);

    public long Attempted => Volatile.Read(ref _attempted);

    public long Established => Volatile.Read(ref _established);

    public long Greeted => Volatile.Read(ref _greeted);

    public long Dropped => Volatile.Read(ref _dropped);

    public long Sessions => Volatile.Read(ref _sessions);

    public long SessionsInWindow => Volatile.Read(ref _sessionsInWindow);

    /// <summary>Whole messages sent (stream mode: counted when each connection closes).</summary>
    public long Messages => Volatile.Read(ref _messages);

    /// <summary>Bytes of <see cref="Messages"/>, terminators included.</summary>
    public long Bytes => Volatile.Read(ref _bytes);

    /// <summary>Bytes written so far in stream mode, for the live rate.</summary>
    public long BytesWritten => Volatile.Read(ref _bytesWritten);

    /// <summary>Timestamp of the last greeting; 0 if none.</summary>
    public long LastGreeting => Volatile.Read(ref _lastGreeting);

    /// <summary>Timestamp of the server's last close of a connection that finished normally; 0 if none.</summary>
    public long LastClose => Volatile.Read(ref _lastClose);

    public long Errors(BenchErrorKind kind) => Volatile.Read(ref _errors[(int)kind]);

    public long TotalErrors
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _errors.Length; i++)
            {
                total += Volatile.Read(ref _errors[i]);
            }

            return total;
        }
    }

    public void Fail(BenchErrorKind kind) => Interlocked.Increment(ref _errors[(int)kind]);

    public void Attempt() => Interlocked.Increment(ref _attempted);

    public void Establish() => Interlocked.Increment(ref _established);

    public void Drop() => Interlocked.Increment(ref _dropped);

    /// <summary>A greeting arrived at <paramref name="now"/> for a connect call at <paramref name="start"/>; records its latency unless <paramref name="record"/> is false.</summary>
    public void Greet(long start, long now, bool record)
    {
        Interlocked.Increment(ref _greeted);
        if (record)
        {
            Latency.Record(Nanoseconds(now - start));
            Max(ref _lastGreeting, now);
        }
    }

    /// <summary>A session that started at <paramref name="start"/> ended with the server's close at <paramref name="now"/>.</summary>
    public void CompleteSession(long start, long now, bool inWindow)
    {
        Latency.Record(Nanoseconds(now - start));
        Interlocked.Increment(ref _sessions);
        if (inWindow)
        {
            Interlocked.Increment(ref _sessionsInWindow);
        }

        Max(ref _lastClose, now);
    }

    /// <summary>The server closed a stream connection after its messages, at <paramref name="now"/>.</summary>
    public void Close(long now) => Max(ref _lastClose, now);

    /// <summary>Adds whole messages sent.</summary>
    public void Sent(long messages, long bytes)
    {
        Interlocked.Add(ref _messages, messages);
        Interlocked.Add(ref _bytes, bytes);
    }

    /// <summary>Stream bytes just written, for the live rate.</summary>
    public void Acknowledged(long ticks)
    {
        Interlocked.Increment(ref _acks);
        AckLatency.Record(Nanoseconds(ticks));
    }

    public void Wrote(long bytes) => Interlocked.Add(ref _bytesWritten, bytes);

    /// <summary>Converts a <see cref="Stopwatch"/> tick count to nanoseconds.</summary>
    public static long Nanoseconds(long ticks) => (long)(ticks * NanosecondsPerTick);

    private static void Max(ref long field, long value) => LatencyHistogram.RaiseTo(ref field, value);
}
