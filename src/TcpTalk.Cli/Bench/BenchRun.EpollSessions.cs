using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace TcpTalk.Cli.Bench;

/// <summary>
/// Session mode on Linux x64 without TLS: every session driven by one thread over non-blocking sockets and epoll,
/// as <c>tcpload</c> does, instead of <see cref="Socket"/> and async/await.
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
/// It counts and times exactly as <see cref="RunSessionsAsync"/>: the same counters, the same latency (connect call
/// to the server's close), the same error kinds, the launch window, the per-step timeout, the 10 ms back-off after a
/// failure and the same wind-down at the end of the load window. Elsewhere (other systems, other processors, TLS)
/// the <see cref="Socket"/> path runs.
/// </para>
/// </remarks>
internal sealed partial class BenchRun
{
    /// <summary>Whether session mode runs on <see cref="EpollSessions"/>: Linux x64 (its <c>epoll_event</c> layout), plain TCP.</summary>
    private bool UseEpollSessions => _options.Mode == BenchMode.Session && _options.Tls is null
        && OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64;

    /// <summary>Runs every session on a dedicated thread; the task ends when all slots are done.</summary>
    private Task RunEpollSessionsAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                using var sessions = new EpollSessions(this);
                sessions.Run();
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

    /// <summary>The session state machines of all slots, one epoll instance, one thread.</summary>
    private sealed unsafe partial class EpollSessions : IDisposable
    {
        private const int AfInet = 2, AfInet6 = 10, SockStream = 1, SockNonBlock = 0x800, SockCloexec = 0x80000;
        private const int EpollCtlAdd = 1, SolSocket = 1, SoError = 4, ShutWr = 1, MsgNoSignal = 0x4000;
        private const uint EpollIn = 0x1, EpollOut = 0x4, EpollErr = 0x8, EpollHup = 0x10, EpollRdHup = 0x2000, EpollEt = 1u << 31;
        private const int EIntr = 4, EAgain = 11, EInProgress = 115;
        private static readonly long ScanTicks = Stopwatch.Frequency / 100; // 10 ms: deadlines and back-offs

        private readonly BenchRun _run;
        private readonly BenchCounters _counters;
        private readonly Connection[] _connections;
        private readonly byte[] _address;
        private readonly int _epoll;
        private readonly int _window;
        private int _launched, _live, _windowHeld;

        public EpollSessions(BenchRun run)
        {
            _run = run;
            _counters = run.Counters;
            _connections = new Connection[run._slots.Length];
            for (int i = 0; i < _connections.Length; i++)
            {
                _connections[i].Fd = -1;
            }

            _address = SocketAddress(run._options.Target);
            _window = Math.Max(1, run._options.Window);
            _epoll = EpollCreate1(0x80000 /* EPOLL_CLOEXEC */);
            if (_epoll < 0)
            {
                throw new SocketException(Marshal.GetLastPInvokeError());
            }
        }

        private enum State : byte
        {
            Idle,
            Backoff,
            Connecting,
            Greeting,
            Sending,
            Draining,
            Done,
        }

        public void Run()
        {
            var events = new EpollEvent[256];
            long nextScan = 0;
            while (true)
            {
                while (!_run.Stopping && _launched < _connections.Length && _windowHeld < _window)
                {
                    int index = _launched++;
                    _live++;
                    _windowHeld++;
                    NextSession(index);
                }

                if (_live == 0 && (_launched == _connections.Length || _run.Stopping))
                {
                    return;
                }

                int count;
                fixed (EpollEvent* buffer = events)
                {
                    count = EpollWait(_epoll, buffer, events.Length, 10);
                }

                for (int i = 0; i < count; i++)
                {
                    Step((int)events[i].Data, events[i].Events);
                }

                long now = Stopwatch.GetTimestamp();
                if (now >= Volatile.Read(ref _run._hardEnd))
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
            if (_run.Stopping || !_run.TryTakeSession())
            {
                Finish(index);
                return;
            }

            ref var c = ref _connections[index];
            long start = Stopwatch.GetTimestamp();
            int fd = Socket(_address.Length == 16 ? AfInet : AfInet6, SockStream | SockNonBlock | SockCloexec, 0);
            if (fd < 0)
            {
                Fail(index, Errno());
                return;
            }

            _counters.Attempt();
            c.Fd = fd;
            c.State = State.Connecting;
            c.Start = start;
            c.Deadline = start + _run._timeoutTicks;
            c.Received = 0;
            c.Written = 0;
            int result;
            fixed (byte* address = _address)
            {
                result = Connect(fd, address, _address.Length);
            }

            if (result < 0 && Marshal.GetLastPInvokeError() != EInProgress)
            {
                Fail(index, Errno());
                return;
            }

            var registration = new EpollEvent { Events = EpollIn | EpollOut | EpollRdHup | EpollEt, Data = (ulong)index };
            if (EpollCtl(_epoll, EpollCtlAdd, fd, &registration) < 0)
            {
                Fail(index, Errno());
            }
        }

        /// <summary>Advances one connection as far as it goes without blocking (edge-triggered: until EAGAIN).</summary>
        private void Step(int index, uint events)
        {
            ref var c = ref _connections[index];
            var slot = _run._slots[index];
            while (true)
            {
                switch (c.State)
                {
                    case State.Connecting:
                        if ((events & (EpollErr | EpollHup)) != 0)
                        {
                            int error = 0, size = sizeof(int);
                            _ = GetSockOpt(c.Fd, SolSocket, SoError, &error, &size);
                            Fail(index, error != 0 ? Classify(error) : BenchErrorKind.Closed);
                            return;
                        }

                        if ((events & (EpollIn | EpollOut)) == 0)
                        {
                            return;
                        }

                        _counters.Establish();
                        c.State = State.Greeting;
                        c.Deadline = _run.StepDeadline();
                        break;

                    case State.Greeting:
                    {
                        byte[] greeting = slot.GreetingBuffer;
                        if (c.Received == greeting.Length)
                        {
                            Fail(index, BenchErrorKind.BadGreeting);
                            return;
                        }

                        nint read;
                        fixed (byte* buffer = greeting)
                        {
                            read = Recv(c.Fd, buffer + c.Received, greeting.Length - c.Received, 0);
                        }

                        if (read <= 0)
                        {
                            if (!Retry(index, read))
                            {
                                return;
                            }

                            break;
                        }

                        if (!greeting.AsSpan(c.Received, (int)read).Contains(_run._options.Terminator))
                        {
                            c.Received += (int)read;
                            break;
                        }

                        _counters.Greet(c.Start, Stopwatch.GetTimestamp(), record: false);
                        ReleaseWindow(slot);
                        c.Length = _run.WriteSessionMessage(slot);
                        c.State = State.Sending;
                        c.Deadline = _run.StepDeadline();
                        break;
                    }

                    case State.Sending:
                    {
                        nint written;
                        fixed (byte* message = slot.Message)
                        {
                            written = Send(c.Fd, message + c.Written, c.Length - c.Written, MsgNoSignal);
                        }

                        if (written < 0)
                        {
                            if (!Retry(index, written))
                            {
                                return;
                            }

                            break;
                        }

                        c.Written += (int)written;
                        if (c.Written < c.Length)
                        {
                            break;
                        }

                        _counters.Sent(1, c.Length);
                        if (Shutdown(c.Fd, ShutWr) < 0)
                        {
                            Fail(index, Errno());
                            return;
                        }

                        c.State = State.Draining;
                        c.Deadline = _run.StepDeadline();
                        break;
                    }

                    case State.Draining:
                    {
                        nint read;
                        fixed (byte* buffer = _run._discard)
                        {
                            read = Recv(c.Fd, buffer, _run._discard.Length, 0);
                        }

                        if (read > 0)
                        {
                            break;
                        }

                        if (read < 0)
                        {
                            if (!Retry(index, read))
                            {
                                return;
                            }

                            break;
                        }

                        long now = Stopwatch.GetTimestamp();
                        _counters.CompleteSession(c.Start, now, inWindow: now <= Volatile.Read(ref _run._end));
                        slot.Completed++;
                        CloseSocket(ref c);
                        NextSession(index);
                        return;
                    }

                    default:
                        return;
                }
            }
        }

        /// <summary>
        /// After a read or write that moved nothing: true to try again (EINTR), false to wait for epoll (EAGAIN) or
        /// because the connection failed (counted). <paramref name="result"/> 0 from a read is the server's close.
        /// </summary>
        private bool Retry(int index, nint result)
        {
            if (result == 0)
            {
                Fail(index, BenchErrorKind.Closed);
                return false;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno == EIntr)
            {
                return true;
            }

            if (errno != EAgain)
            {
                Fail(index, Classify(errno));
            }

            return false;
        }

        /// <summary>Times out connections past their deadline and restarts slots whose back-off is over.</summary>
        private void Scan(long now)
        {
            for (int i = 0; i < _launched; i++)
            {
                ref var c = ref _connections[i];
                if (c.State == State.Backoff && (_run.Stopping || now >= c.Deadline))
                {
                    c.State = State.Idle;
                    NextSession(i);
                }
                else if ((c.State is State.Connecting or State.Greeting or State.Sending or State.Draining) && now >= c.Deadline)
                {
                    Fail(i, BenchErrorKind.Timeout);
                }
            }
        }

        /// <summary>The hard end: every open connection is a timeout (not an error after Ctrl+C) and every slot retires.</summary>
        private void EndAll()
        {
            bool interrupted = _run.Interrupted;
            for (int i = 0; i < _launched; i++)
            {
                ref var c = ref _connections[i];
                if (c.Fd >= 0 && !interrupted)
                {
                    _counters.Fail(BenchErrorKind.Timeout);
                }

                CloseSocket(ref c);
                Finish(i);
            }
        }

        /// <summary>Counts the failure, closes the connection and backs off 10 ms (or retires the slot after the window).</summary>
        private void Fail(int index, BenchErrorKind kind)
        {
            ref var c = ref _connections[index];
            _counters.Fail(kind);
            CloseSocket(ref c);
            ReleaseWindow(_run._slots[index]);
            if (_run.Stopping)
            {
                Finish(index);
            }
            else
            {
                c.State = State.Backoff;
                c.Deadline = Stopwatch.GetTimestamp() + Ticks(Backoff);
            }
        }

        private void Finish(int index)
        {
            ref var c = ref _connections[index];
            if (c.State != State.Done)
            {
                c.State = State.Done;
                _live--;
                ReleaseWindow(_run._slots[index]);
            }
        }

        /// <summary>The slot stops holding the launch window (once), as <see cref="BenchRun.ReleaseWindow"/> does.</summary>
        private void ReleaseWindow(LoadSlot slot)
        {
            if (slot.HoldsWindow)
            {
                slot.HoldsWindow = false;
                _windowHeld--;
            }
        }

        private static void CloseSocket(ref Connection c)
        {
            if (c.Fd >= 0)
            {
                _ = Close(c.Fd);
                c.Fd = -1;
            }
        }

        private static BenchErrorKind Errno() => Classify(Marshal.GetLastPInvokeError());

        /// <summary>Linux errno values, as <see cref="BenchErrorKinds.Classify"/> sorts the matching <see cref="SocketError"/>s.</summary>
        private static BenchErrorKind Classify(int errno) => errno switch
        {
            111 => BenchErrorKind.Refused, // ECONNREFUSED
            104 or 103 or 32 or 108 => BenchErrorKind.Reset, // ECONNRESET, ECONNABORTED, EPIPE, ESHUTDOWN
            110 => BenchErrorKind.Timeout, // ETIMEDOUT
            99 or 98 or 105 => BenchErrorKind.Address, // EADDRNOTAVAIL, EADDRINUSE, ENOBUFS
            _ => BenchErrorKind.Other,
        };

        /// <summary><c>struct sockaddr_in</c> (16 bytes) or <c>sockaddr_in6</c> (28 bytes) for <paramref name="target"/>.</summary>
        private static byte[] SocketAddress(System.Net.IPEndPoint target)
        {
            bool v4 = target.AddressFamily == AddressFamily.InterNetwork;
            var address = new byte[v4 ? 16 : 28];
            address[0] = (byte)(v4 ? AfInet : AfInet6);
            address[2] = (byte)(target.Port >> 8);
            address[3] = (byte)target.Port;
            target.Address.TryWriteBytes(address.AsSpan(v4 ? 4 : 8), out _);
            if (!v4)
            {
                BitConverter.TryWriteBytes(address.AsSpan(24), (uint)target.Address.ScopeId);
            }

            return address;
        }

        public void Dispose()
        {
            for (int i = 0; i < _connections.Length; i++)
            {
                CloseSocket(ref _connections[i]);
            }

            _ = Close(_epoll);
        }

        /// <summary>One slot's connection: descriptor (-1: none), step, its deadline and how far it got.</summary>
        private struct Connection
        {
            public int Fd;
            public State State;
            public long Start;
            public long Deadline;
            public int Received;
            public int Written;
            public int Length;
        }

        /// <summary><c>struct epoll_event</c> as x86-64 lays it out: packed, 12 bytes.</summary>
        [StructLayout(LayoutKind.Sequential, Pack = 4)]
        private struct EpollEvent
        {
            public uint Events;
            public ulong Data;
        }

        [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
        private static partial int Socket(int domain, int type, int protocol);

        [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
        private static partial int Connect(int fd, byte* address, int length);

        [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
        private static partial nint Recv(int fd, byte* buffer, nint length, int flags);

        [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
        private static partial nint Send(int fd, byte* buffer, nint length, int flags);

        [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
        private static partial int Shutdown(int fd, int how);

        [LibraryImport("libc", EntryPoint = "close")]
        private static partial int Close(int fd);

        [LibraryImport("libc", EntryPoint = "getsockopt")]
        private static partial int GetSockOpt(int fd, int level, int name, int* value, int* length);

        [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
        private static partial int EpollCreate1(int flags);

        [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
        private static partial int EpollCtl(int epoll, int operation, int fd, EpollEvent* registration);

        [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
        private static partial int EpollWait(int epoll, EpollEvent* events, int count, int timeout);
    }
}
