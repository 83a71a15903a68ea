using System.Diagnostics;
using TcpTalk.Load.Interop;

namespace TcpTalk.Load;

/// <summary>What <see cref="EpollSessionSteps.Advance"/> left a session at.</summary>
internal enum StepResult
{
    /// <summary>Nothing more to do until epoll reports the socket again.</summary>
    Waiting,

    /// <summary>The server closed after the message: the session is complete (and counted).</summary>
    Completed,

    /// <summary>The session failed; the kind says why (not counted yet).</summary>
    Failed,
}

/// <summary>
/// One session's system calls on the epoll path, as <c>tcpload</c> makes them: socket, connect, epoll_ctl, recv
/// (greeting), send, shutdown, recv (until the server's close). Each call either moves the session on or says why it
/// waits or failed; scheduling, deadlines and the launch window are <see cref="EpollSessionDriver"/>'s.
/// </summary>
internal sealed unsafe class EpollSessionSteps(byte[] socketAddress, byte terminator, RunClock clock, SessionMessages messages, BenchCounters counters,
    MadeUpProxyHeaders? proxyHeaders = null)
{
    /// <summary>Bytes read only to be thrown away (anything the server sends after the greeting).</summary>
    private readonly byte[] _discard = new byte[64 * 1024];

    /// <summary>
    /// Opens a non-blocking socket, starts connecting and registers it with <paramref name="epoll"/> (edge-triggered,
    /// <paramref name="index"/> as its data); false with the kind when a call failed.
    /// </summary>
    public bool TryOpen(ref EpollSession session, int epoll, int index, out BenchErrorKind failure)
    {
        long start = Stopwatch.GetTimestamp();
        int fd = Libc.Socket(Libc.FamilyOf(socketAddress), Libc.SockStream | Libc.SockNonBlock | Libc.SockCloexec, 0);
        if (fd < 0)
        {
            failure = LastError();
            return false;
        }

        counters.Attempt();
        session = new EpollSession
        {
            Fd = fd,
            State = EpollSessionState.Connecting,
            Start = start,
            Deadline = clock.StepDeadline(start),
        };
        int result;
        fixed (byte* address = socketAddress)
        {
            result = Libc.Connect(fd, address, socketAddress.Length);
        }

        var registration = new Libc.EpollEvent { Events = Libc.EpollIn | Libc.EpollOut | Libc.EpollRdHup | Libc.EpollEt, Data = (ulong)index };
        if ((result < 0 && Libc.Errno.Last != Libc.Errno.EINPROGRESS) || Libc.EpollCtl(epoll, Libc.EpollCtlAdd, fd, &registration) < 0)
        {
            failure = LastError();
            return false;
        }

        failure = default;
        return true;
    }

    /// <summary>Advances a session as far as it goes without blocking (edge-triggered: until EAGAIN), given epoll's <paramref name="events"/>.</summary>
    public StepResult Advance(ref EpollSession session, LoadSlot slot, uint events, out BenchErrorKind failure)
    {
        failure = default;
        while (true)
        {
            nint moved;
            switch (session.State)
            {
                case EpollSessionState.Connecting:
                    if ((events & (Libc.EpollErr | Libc.EpollHup)) != 0)
                    {
                        int error = Libc.PendingError(session.Fd);
                        failure = error != 0 ? BenchErrorKinds.ClassifyErrno(error) : BenchErrorKind.Closed;
                        return StepResult.Failed;
                    }

                    if ((events & (Libc.EpollIn | Libc.EpollOut)) == 0)
                    {
                        return StepResult.Waiting;
                    }

                    counters.Establish();
                    if (proxyHeaders is not null && !TrySendProxyHeader(session.Fd, out failure))
                    {
                        return StepResult.Failed;
                    }

                    session.State = EpollSessionState.Greeting;
                    session.Deadline = clock.StepDeadline();
                    continue;

                case EpollSessionState.Greeting:
                    byte[] greeting = slot.GreetingBuffer;
                    if (session.Received == greeting.Length)
                    {
                        failure = BenchErrorKind.BadGreeting;
                        return StepResult.Failed;
                    }

                    fixed (byte* buffer = greeting)
                    {
                        moved = Libc.Recv(session.Fd, buffer + session.Received, greeting.Length - session.Received, 0);
                    }

                    if (moved <= 0)
                    {
                        break;
                    }

                    if (!greeting.AsSpan(session.Received, (int)moved).Contains(terminator))
                    {
                        session.Received += (int)moved;
                        continue;
                    }

                    counters.Greet(session.Start, Stopwatch.GetTimestamp(), record: false);
                    session.Length = messages.WriteNext(slot);
                    session.State = EpollSessionState.Sending;
                    session.Deadline = clock.StepDeadline();
                    continue;

                case EpollSessionState.Sending:
                    fixed (byte* message = slot.Message)
                    {
                        moved = Libc.Send(session.Fd, message + session.Written, session.Length - session.Written, Libc.MsgNoSignal);
                    }

                    if (moved < 0)
                    {
                        break;
                    }

                    session.Written += (int)moved;
                    if (session.Written < session.Length)
                    {
                        continue;
                    }

                    counters.Sent(1, session.Length);
                    if (Libc.Shutdown(session.Fd, Libc.ShutWr) < 0)
                    {
                        failure = LastError();
                        return StepResult.Failed;
                    }

                    session.State = EpollSessionState.Draining;
                    session.Deadline = clock.StepDeadline();
                    continue;

                case EpollSessionState.Draining:
                    fixed (byte* buffer = _discard)
                    {
                        moved = Libc.Recv(session.Fd, buffer, _discard.Length, 0);
                    }

                    if (moved > 0)
                    {
                        continue;
                    }

                    if (moved == 0)
                    {
                        long now = Stopwatch.GetTimestamp();
                        counters.CompleteSession(session.Start, now, inWindow: clock.InWindow(now));
                        slot.Completed++;
                        return StepResult.Completed;
                    }

                    break;

                default:
                    return StepResult.Waiting;
            }

            // A read or write moved nothing: the server's close (a read of 0), EINTR (again), EAGAIN (wait), or a failure.
            if (moved == 0)
            {
                failure = BenchErrorKind.Closed;
                return StepResult.Failed;
            }

            int errno = Libc.Errno.Last;
            if (errno == Libc.Errno.EINTR)
            {
                continue;
            }

            if (errno == Libc.Errno.EAGAIN)
            {
                return StepResult.Waiting;
            }

            failure = BenchErrorKinds.ClassifyErrno(errno);
            return StepResult.Failed;
        }
    }

    /// <summary>
    /// Sends the PROXY header right after the connect: a few dozen bytes into an empty send buffer, which take one
    /// call (one that sends less could only mean a broken connection, and counts as closed).
    /// </summary>
    private bool TrySendProxyHeader(int fd, out BenchErrorKind failure)
    {
        byte* header = stackalloc byte[TcpTalk.Protocol.ProxyHeaderWriter.MaxBytes];
        int length = proxyHeaders!.WriteNext(new Span<byte>(header, TcpTalk.Protocol.ProxyHeaderWriter.MaxBytes));
        nint sent = Libc.Send(fd, header, length, Libc.MsgNoSignal);
        failure = sent < 0 ? LastError() : BenchErrorKind.Closed;
        return sent == length;
    }

    private static BenchErrorKind LastError() => BenchErrorKinds.ClassifyErrno(Libc.Errno.Last);
}
