using System.Diagnostics;

namespace TcpTalk.Load;

/// <summary>
/// The timeline of one run, in <see cref="Stopwatch"/> timestamps: its start, the end of the load window, the hard
/// end after which every connection left is cut, and whether it is stopping or was interrupted. Read from any thread.
/// </summary>
internal sealed class RunClock(TimeSpan stepTimeout)
{
    private readonly long _stepTicks = Ticks(stepTimeout);
    private long _start;
    private long _windowEnd = long.MaxValue;
    private long _hardEnd = long.MaxValue;
    private int _stopping;
    private bool _interrupted;

    /// <summary>When the run started; 0 before <see cref="Start"/>.</summary>
    public long Started => Volatile.Read(ref _start);

    /// <summary>When the load window ends (or ended); <see cref="long.MaxValue"/> while only --messages bounds it.</summary>
    public long WindowEnd => Volatile.Read(ref _windowEnd);

    /// <summary>Whether the load window has ended (or Ctrl+C came): nothing new starts.</summary>
    public bool Stopping => Volatile.Read(ref _stopping) != 0;

    /// <summary>Whether Ctrl+C / SIGTERM cut the run short.</summary>
    public bool Interrupted => Volatile.Read(ref _interrupted);

    /// <summary>Starts the clock; a load window of <paramref name="window"/> (null: none) begins now.</summary>
    public void Start(TimeSpan? window)
    {
        long now = Stopwatch.GetTimestamp();
        Volatile.Write(ref _start, now);
        if (window is { } length)
        {
            Volatile.Write(ref _windowEnd, now + Ticks(length));
        }
    }

    /// <summary>Whether something that finished at <paramref name="now"/> finished inside the load window.</summary>
    public bool InWindow(long now) => now <= WindowEnd;

    /// <summary>Whether <paramref name="now"/> is at or past the hard end.</summary>
    public bool PastHardEnd(long now) => now >= Volatile.Read(ref _hardEnd);

    /// <summary>A deadline one step timeout (<see cref="BenchOptions.Timeout"/>) from now.</summary>
    public long StepDeadline() => Stopwatch.GetTimestamp() + _stepTicks;

    /// <summary>A deadline one step timeout after <paramref name="start"/>.</summary>
    public long StepDeadline(long start) => start + _stepTicks;

    /// <summary>
    /// Ends the load window at <paramref name="now"/> with <paramref name="graceTicks"/> until the hard end; true the
    /// first time only (the caller then winds the connections down).
    /// </summary>
    public bool TryBeginStop(long now, long graceTicks)
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            return false;
        }

        Volatile.Write(ref _hardEnd, now + graceTicks);
        return true;
    }

    /// <summary>Ctrl+C at <paramref name="now"/>: the window ends now, and so does the run (the hard end is now).</summary>
    public void Interrupt(long now)
    {
        Volatile.Write(ref _interrupted, true);
        if (WindowEnd > now)
        {
            Volatile.Write(ref _windowEnd, now);
        }
    }

    /// <summary>Moves the hard end to <paramref name="now"/>.</summary>
    public void EndNow(long now) => Volatile.Write(ref _hardEnd, now);

    /// <summary><paramref name="time"/> in <see cref="Stopwatch"/> ticks.</summary>
    public static long Ticks(TimeSpan time) => (long)(time.TotalSeconds * Stopwatch.Frequency);

    /// <summary>The step timeout in ticks.</summary>
    public long StepTicks => _stepTicks;
}
