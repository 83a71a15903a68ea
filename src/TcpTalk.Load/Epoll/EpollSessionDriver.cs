using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using TcpTalk.Load.Interop;

namespace TcpTalk.Load;

/// <summary>
/// Session mode on Linux x64 without TLS: every slot's sessions driven by one thread over non-blocking sockets and
/// epoll, as <c>tcpload</c> does, instead of <see cref="Socket"/> and async/await.
/// </summary>
/// <remarks>
/// <para>
/// Why it exists: in session mode on a fast server the load generator is the limit, so <c>tcptalk bench</c> measures
/// its own cost per session. Through <see cref="Socket"/> that cost was 1.3-1.4x tcpload's (per connection two
/// <c>fcntl</c>, a <c>poll</c> and a <c>getsockopt</c> more, plus thread wake-ups around the epoll thread), and it
/// reported 18-27% fewer sessions/s than tcpload on the same server. With the same system calls as tcpload (socket,
/// connect, epoll_ctl, recv, send, shutdown, recv, close) it costs the same CPU per session and measured 0.92-1.03 of
/// tcpload's sessions/s against three servers (bench/README.md, bench-agree.py, 2026-11-25).
/// </para>
/// <para>
/// It counts and times exactly as the <see cref="Socket"/> path (BenchRun.Session.cs): the same counters, the same
/// latency (connect call to the server's close), the same error kinds, the launch window, the per-step timeout, the
/// 10 ms back-off after a failure and the same wind-down at the end of the load window. This type schedules;
/// <see cref="EpollSessionSteps"/> makes each session's system calls.
/// </para>
/// </remarks>
internal sealed unsafe class EpollSessionDriver : IDisposable
{
    private static readonly long ScanTicks = Stopwatch.Frequency / 100; // 10 ms: deadlines and back-offs

    private readonly LoadSlot[] _slots;
    private readonly RunClock _clock;
    private readonly SessionMessages _messages;
    private readonly BenchCounters _counters;
    private readonly EpollSessionSteps _steps;
    private readonly EpollSession[] _sessions;
    private readonly int _epoll;
    private readonly int _window;
    private int _launched, _live, _windowHeld;

    private EpollSessionDriver(IPEndPoint target, byte terminator, int window, LoadSlot[] slots, RunClock clock, SessionMessages messages, BenchCounters counters,
        MadeUpProxyHeaders? proxyHeaders)
    {
        _slots = slots;
        _clock = clock;
        _messages = messages;
        _counters = counters;
        _steps = new EpollSessionSteps(Libc.SocketAddress(target), terminator, clock, messages, counters, proxyHeaders);
        _window = Math.Max(1, window);
        _sessions = new EpollSession[slots.Length];
        for (int i = 0; i < _sessions.Length; i++)
        {
            _sessions[i].Fd = -1;
        }

        _epoll = Libc.EpollCreate1(Libc.EpollCloexec);
        if (_epoll < 0)
        {
            throw new SocketException(Libc.Errno.Last);
        }
    }

    /// <summary>
    /// Runs every slot's sessions against <paramref name="target"/> on a dedicated thread, with at most
    /// <paramref name="window"/> slots awaiting their first greeting, until <paramref name="clock"/> says stop or
    /// <paramref name="messages"/> runs out; the task ends when all slots are done. Everything is counted in <paramref name="counters"/>.
    /// With <paramref name="proxyHeaders"/>, each connection first sends one.
    /// </summary>
    public static Task RunAsync(IPEndPoint target, byte terminator, int window, LoadSlot[] slots, RunClock clock, SessionMessages messages, BenchCounters counters,
        MadeUpProxyHeaders? proxyHeaders = null)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using var driver = new EpollSessionDriver(target, terminator, window, slots, clock, messages, counters, proxyHeaders);
                driver.Run();
                done.SetResult();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                done.SetException(e);
            }
        })
        {
            IsBackground = true,
            Name = "bench sessions",
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>Launches slots within the window, steps the sessions epoll reports, and scans deadlines every 10 ms.</summary>
    private void Run()
    {
        var events = new Libc.EpollEvent[256];
        long nextScan = 0;
        while (true)
        {
            while (!_clock.Stopping && _launched < _sessions.Length && _windowHeld < _window)
            {
                int index = _launched++;
                _live++;
                _windowHeld++;
                NextSession(index);
            }

            if (_live == 0 && (_launched == _sessions.Length || _clock.Stopping))
            {
                return;
            }

            int count;
            fixed (Libc.EpollEvent* buffer = events)
            {
                count = Libc.EpollWait(_epoll, buffer, events.Length, 10);
            }

            for (int i = 0; i < count; i++)
            {
                Step((int)events[i].Data, events[i].Events);
            }

            long now = Stopwatch.GetTimestamp();
            if (_clock.PastHardEnd(now))
            {
                EndAll();
            }
            else if (now >= nextScan)
            {
                nextScan = now + ScanTicks;
                Scan(now);
            }
        }
    }

    /// <summary>Starts the slot's next session, or retires the slot when the window has ended or none are left.</summary>
    private void NextSession(int index)
    {
        if (_clock.Stopping || !_messages.TryTake())
        {
            Finish(index);
        }
        else if (!_steps.TryOpen(ref _sessions[index], _epoll, index, out var failure))
        {
            Fail(index, failure);
        }
    }

    private void Step(int index, uint events)
    {
        ref var session = ref _sessions[index];
        var result = _steps.Advance(ref session, _slots[index], events, out var failure);
        if (session.PastGreeting || result == StepResult.Completed)
        {
            ReleaseWindow(index);
        }

        if (result == StepResult.Completed)
        {
            CloseSocket(ref session);
            NextSession(index);
        }
        else if (result == StepResult.Failed)
        {
            Fail(index, failure);
        }
    }

    /// <summary>Times out sessions past their deadline and restarts slots whose back-off is over.</summary>
    private void Scan(long now)
    {
        for (int i = 0; i < _launched; i++)
        {
            ref var session = ref _sessions[i];
            if (session.State == EpollSessionState.Backoff && (_clock.Stopping || now >= session.Deadline))
            {
                session.State = EpollSessionState.Idle;
                NextSession(i);
            }
            else if (session.InFlight && now >= session.Deadline)
            {
                Fail(i, BenchErrorKind.Timeout);
            }
        }
    }

    /// <summary>The hard end: every open connection is a timeout (not an error after Ctrl+C) and every slot retires.</summary>
    private void EndAll()
    {
        bool interrupted = _clock.Interrupted;
        for (int i = 0; i < _launched; i++)
        {
            ref var session = ref _sessions[i];
            if (session.Fd >= 0 && !interrupted)
            {
                _counters.Fail(BenchErrorKind.Timeout);
            }

            CloseSocket(ref session);
            Finish(i);
        }
    }

    /// <summary>Counts the failure, closes the connection and backs off 10 ms (or retires the slot after the window).</summary>
    private void Fail(int index, BenchErrorKind kind)
    {
        ref var session = ref _sessions[index];
        _counters.Fail(kind);
        CloseSocket(ref session);
        ReleaseWindow(index);
        if (_clock.Stopping)
        {
            Finish(index);
        }
        else
        {
            session.State = EpollSessionState.Backoff;
            session.Deadline = Stopwatch.GetTimestamp() + RunClock.Ticks(BenchRun.Backoff);
        }
    }

    private void Finish(int index)
    {
        ref var session = ref _sessions[index];
        if (session.State != EpollSessionState.Done)
        {
            session.State = EpollSessionState.Done;
            _live--;
            ReleaseWindow(index);
        }
    }

    /// <summary>The slot stops holding the launch window (once), as the <see cref="Socket"/> path's window does.</summary>
    private void ReleaseWindow(int index)
    {
        var slot = _slots[index];
        if (slot.HoldsWindow)
        {
            slot.HoldsWindow = false;
            _windowHeld--;
        }
    }

    private static void CloseSocket(ref EpollSession session)
    {
        if (session.Fd >= 0)
        {
            _ = Libc.Close(session.Fd);
            session.Fd = -1;
        }
    }

    public void Dispose()
    {
        for (int i = 0; i < _sessions.Length; i++)
        {
            CloseSocket(ref _sessions[i]);
        }

        _ = Libc.Close(_epoll);
    }
}
