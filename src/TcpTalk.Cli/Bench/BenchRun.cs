using System.Diagnostics;

namespace TcpTalk.Cli.Bench;

/// <summary>
/// One load run: launches the connections, keeps time, stops them, and counts what they did in
/// <see cref="Counters"/>. The modes' connection loops are in the other BenchRun.*.cs files.
/// </summary>
/// <remarks>
/// <para>
/// The run mirrors <c>tcpload</c> (shared/bench) step by step, so both report the same figures for the same server.
/// Connections are launched with at most <see cref="BenchOptions.Window"/> of them awaiting their first greeting. At
/// the end of the load window (<see cref="BenchOptions.Duration"/>) nothing new starts: in-flight sessions finish
/// within <see cref="BenchOptions.Timeout"/>, streams finish the message they are writing, half-close and drain
/// within <see cref="BenchOptions.DrainTimeout"/>, held connections are closed, and connections not yet greeted in
/// stream and hold mode count as timeouts.
/// </para>
/// <para>
/// Timeouts cost nothing per operation: each step stores a deadline in its <see cref="LoadSlot"/>, and one scan every
/// 20 ms aborts the connections past theirs (disposing the socket fails the pending operation). The hot paths are
/// async socket reads and writes into buffers allocated once; a session allocates only its socket and stream.
/// On Linux x64, session mode over plain TCP runs on one epoll thread instead (BenchRun.EpollSessions.cs: there the
/// generator's own cost per session is the figure, and Socket's was 1.35x tcpload's).
/// </para>
/// </remarks>
internal sealed partial class BenchRun
{
    private static readonly TimeSpan ScanPeriod = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Backoff = TimeSpan.FromMilliseconds(10);

    private readonly BenchOptions _options;
    private readonly LoadSlot[] _slots;
    private readonly SemaphoreSlim _window;
    private readonly CancellationTokenSource _stop = new();
    private readonly long _timeoutTicks;
    private long _start;
    private long _end = long.MaxValue;
    private long _hardEnd = long.MaxValue;
    private long _finish;
    private int _stopping;
    private volatile bool _finished;
    private bool _interrupted;

    public BenchRun(BenchOptions options)
    {
        _options = options;
        _timeoutTicks = Ticks(options.Timeout);
        _window = new SemaphoreSlim(Math.Max(1, options.Window));
        _slots = new LoadSlot[options.Connections];
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new LoadSlot(i, GreetingLimit);
        }

        _sessionsLeft = options.Messages ?? long.MaxValue;
        _streamBuffer = options.Mode == BenchMode.Stream ? BuildStreamBuffer(options) : [];
    }

    /// <summary>Most greeting bytes before the terminator; a longer greeting is <see cref="BenchErrorKind.BadGreeting"/>.</summary>
    public const int GreetingLimit = 1024;

    public BenchOptions Options => _options;

    public BenchCounters Counters { get; } = new();

    /// <summary>Whether the load window has ended (or Ctrl+C came): nothing new starts.</summary>
    public bool Stopping => Volatile.Read(ref _stopping) != 0;

    /// <summary>Whether Ctrl+C / SIGTERM cut the run short.</summary>
    public bool Interrupted
    {
        get => Volatile.Read(ref _interrupted);
        private set => Volatile.Write(ref _interrupted, value);
    }

    /// <summary>Time since the start of the run.</summary>
    public TimeSpan Elapsed => _start == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(_start, _finished ? _finish : Stopwatch.GetTimestamp());

    /// <summary>Runs the load to its end and returns the figures. <paramref name="cancellationToken"/> ends it early (Ctrl+C).</summary>
    public async Task<BenchResult> RunAsync(CancellationToken cancellationToken)
    {
        _start = Stopwatch.GetTimestamp();
        if (_options.Duration is { } duration)
        {
            _end = _start + Ticks(duration);
        }

        var scan = ScanAsync();
        var workers = new List<Task>(_slots.Length);
        using (cancellationToken.Register(Interrupt))
        {
            if (UseEpollSessions)
            {
                workers.Add(RunEpollSessionsAsync());
            }

            foreach (var slot in UseEpollSessions ? [] : _slots)
            {
                try
                {
                    await _window.WaitAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                workers.Add(_options.Mode switch
                {
                    BenchMode.Session => RunSessionsAsync(slot),
                    BenchMode.Stream => RunStreamAsync(slot, StreamQuota(slot.Index)),
                    _ => RunHoldAsync(slot),
                });
            }

            await Task.WhenAll(workers).ConfigureAwait(false);
        }

        _finish = Stopwatch.GetTimestamp();
        _finished = true;
        await scan.ConfigureAwait(false);
        return BenchResult.From(this, _start, Math.Min(Volatile.Read(ref _end), _finish), _finish, _slots);
    }

    /// <summary>Aborts every connection past its deadline, ends the load window on time, and ends the run at the hard end.</summary>
    private async Task ScanAsync()
    {
        using var timer = new PeriodicTimer(ScanPeriod);
        while (!_finished && await timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= Volatile.Read(ref _end))
            {
                BeginStop(now);
            }

            bool hardEnd = now >= Volatile.Read(ref _hardEnd);
            foreach (var slot in _slots)
            {
                if (hardEnd)
                {
                    slot.Abort(Interrupted ? LoadSlot.EndedByRun : (int)BenchErrorKind.Timeout);
                }
                else
                {
                    slot.ExpireIfDue(now);
                }
            }
        }
    }

    /// <summary>Ends the load window (once): nothing new starts, and each mode winds down as the class remarks say.</summary>
    private void BeginStop(long now)
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            return;
        }

        long grace = Interrupted ? 0 : _options.Mode switch
        {
            BenchMode.Session => _timeoutTicks,
            BenchMode.Stream => Ticks(_options.DrainTimeout),
            _ => 0,
        };
        Volatile.Write(ref _hardEnd, now + grace);
        _stop.Cancel();
        foreach (var slot in _slots)
        {
            // Hold: the end of the window is the end of the held connections. Stream and hold: a connection not greeted
            // within the window is a timeout, as in tcpload. Ctrl+C: everything ends now, and that is no error.
            if (Interrupted)
            {
                slot.Abort(LoadSlot.EndedByRun);
            }
            else if (_options.Mode != BenchMode.Session && !slot.Greeted)
            {
                slot.Abort((int)BenchErrorKind.Timeout);
            }
            else if (_options.Mode == BenchMode.Hold)
            {
                slot.Abort(LoadSlot.EndedByRun);
            }
        }
    }

    /// <summary>Ctrl+C: the window ends now, and every connection is closed without counting it as an error.</summary>
    private void Interrupt()
    {
        Interrupted = true;
        long now = Stopwatch.GetTimestamp();
        if (Volatile.Read(ref _end) > now)
        {
            Volatile.Write(ref _end, now);
        }

        BeginStop(now);
        Volatile.Write(ref _hardEnd, now);
    }

    private void ReleaseWindow(LoadSlot slot)
    {
        if (slot.HoldsWindow)
        {
            slot.HoldsWindow = false;
            _window.Release();
        }
    }

    /// <summary>A deadline <see cref="BenchOptions.Timeout"/> from now.</summary>
    private long StepDeadline() => Stopwatch.GetTimestamp() + _timeoutTicks;

    private static long Ticks(TimeSpan time) => (long)(time.TotalSeconds * Stopwatch.Frequency);
}
