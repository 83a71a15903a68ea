using System.Net;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace TcpTalk.Load;

/// <summary>
/// One load run: launches the connections, keeps time, stops them, and counts what they did in
/// <see cref="Counters"/>. The modes' connection loops are in the other BenchRun.*.cs files; session mode on Linux
/// x64 over plain TCP runs on <see cref="EpollSessionDriver"/> instead.
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
/// </para>
/// </remarks>
internal sealed partial class BenchRun
{
    private static readonly TimeSpan ScanPeriod = TimeSpan.FromMilliseconds(20);

    /// <summary>How long a slot waits after a failure before it tries again, as tcpload, so a refusing server is not spun on.</summary>
    internal static readonly TimeSpan Backoff = TimeSpan.FromMilliseconds(10);

    private readonly BenchOptions _options;
    private readonly LoadTarget _target;
    private readonly LoadSlot[] _slots;
    private readonly SemaphoreSlim _window;
    private readonly CancellationTokenSource _stop = new();
    private readonly SessionMessages _sessions;
    private readonly MadeUpProxyHeaders? _proxyHeaders;
    private long _finish;
    private volatile bool _finished;

    public BenchRun(BenchOptions options, LoadTarget target)
    {
        if (options.FramingProblem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        _options = options;
        _target = target;
        Clock = new RunClock(options.Timeout);
        _window = new SemaphoreSlim(Math.Max(1, options.Window));
        _slots = new LoadSlot[options.Connections];
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new LoadSlot(i, GreetingLimit);
        }

        _sessions = new SessionMessages(options.Messages, options.MessageBytes, options.Terminator);
        _proxyHeaders = target.Address is IPEndPoint server ? MadeUpProxyHeaders.For(options, server) : null;
        _streamBuffer = options.Mode == BenchMode.Stream ? BuildStreamBuffer(options) : [];
    }

    /// <summary>Most greeting bytes before the terminator; a longer greeting is <see cref="BenchErrorKind.BadGreeting"/>.</summary>
    public const int GreetingLimit = 1024;

    public BenchOptions Options => _options;

    public BenchCounters Counters { get; } = new();

    /// <summary>The run's timeline: window, hard end, stopping, interrupted.</summary>
    public RunClock Clock { get; }

    /// <summary>Time since the start of the run (to its end once it has ended).</summary>
    public TimeSpan Elapsed => Clock.Started == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(Clock.Started, _finished ? _finish : Stopwatch.GetTimestamp());

    /// <summary>Whether the load window has ended (or Ctrl+C came): nothing new starts.</summary>
    private bool Stopping => Clock.Stopping;

    /// <summary>
    /// Whether session mode runs on <see cref="EpollSessionDriver"/>: Linux x64 (its <c>epoll_event</c> layout), plain
    /// TCP. A unix socket target takes the async path (the epoll driver builds IP socket addresses only).
    /// </summary>
    private bool UseEpollSessions => _options.Mode == BenchMode.Session && _target.Tls is null && _target.Address is IPEndPoint
        && OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Runs the load to its end and returns the figures. <paramref name="cancellationToken"/> ends it early (Ctrl+C).</summary>
    public async Task<BenchResult> RunAsync(CancellationToken cancellationToken)
    {
        Clock.Start(_options.Duration);
        var scan = ScanAsync();
        var workers = new List<Task>(_slots.Length);
        using (cancellationToken.Register(Interrupt))
        {
            if (UseEpollSessions)
            {
                workers.Add(EpollSessionDriver.RunAsync((IPEndPoint)_target.Address, _options.Terminator, _options.Window, _slots, Clock, _sessions, Counters, _proxyHeaders));
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
                    BenchMode.Stream when _options.Acknowledged => RunAckedStreamAsync(slot, StreamQuota(slot.Index)),
                    BenchMode.Stream => RunStreamAsync(slot, StreamQuota(slot.Index)),
                    _ => RunHoldAsync(slot),
                });
            }

            await Task.WhenAll(workers).ConfigureAwait(false);
        }

        _finish = Stopwatch.GetTimestamp();
        _finished = true;
        await scan.ConfigureAwait(false);
        return BenchResult.From(this, _target, Clock.Started, Math.Min(Clock.WindowEnd, _finish), _finish, _slots);
    }

    /// <summary>Aborts every connection past its deadline, ends the load window on time, and ends the run at the hard end.</summary>
    private async Task ScanAsync()
    {
        using var timer = new PeriodicTimer(ScanPeriod);
        while (!_finished && await timer.WaitForNextTickAsync().ConfigureAwait(false))
        {
            long now = Stopwatch.GetTimestamp();
            if (now >= Clock.WindowEnd)
            {
                BeginStop(now);
            }

            bool hardEnd = Clock.PastHardEnd(now);
            foreach (var slot in _slots)
            {
                if (hardEnd)
                {
                    slot.Abort(Clock.Interrupted ? LoadSlot.EndedByRun : (int)BenchErrorKind.Timeout);
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
        long grace = Clock.Interrupted ? 0 : _options.Mode switch
        {
            BenchMode.Session => Clock.StepTicks,
            BenchMode.Stream => RunClock.Ticks(_options.DrainTimeout),
            _ => 0,
        };
        if (!Clock.TryBeginStop(now, grace))
        {
            return;
        }

        _stop.Cancel();
        foreach (var slot in _slots)
        {
            // Hold: the end of the window is the end of the held connections. Stream and hold: a connection not greeted
            // within the window is a timeout, as in tcpload. Ctrl+C: everything ends now, and that is no error.
            if (Clock.Interrupted)
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
        long now = Stopwatch.GetTimestamp();
        Clock.Interrupt(now);
        BeginStop(now);
        Clock.EndNow(now);
    }

    private void ReleaseWindow(LoadSlot slot)
    {
        if (slot.HoldsWindow)
        {
            slot.HoldsWindow = false;
            _window.Release();
        }
    }
}
