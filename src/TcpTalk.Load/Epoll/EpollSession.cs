namespace TcpTalk.Load;

/// <summary>Where one slot's session is on the epoll path.</summary>
internal enum EpollSessionState : byte
{
    /// <summary>No session yet (the slot has not been launched).</summary>
    Idle,

    /// <summary>Waiting out the back-off after a failure (<see cref="EpollSession.Deadline"/> is its end).</summary>
    Backoff,

    /// <summary>Non-blocking connect in progress.</summary>
    Connecting,

    /// <summary>Reading the greeting up to its terminator.</summary>
    Greeting,

    /// <summary>Writing the one message.</summary>
    Sending,

    /// <summary>Half-closed; reading until the server closes.</summary>
    Draining,

    /// <summary>The slot is retired: the window ended, or no sessions are left.</summary>
    Done,
}

/// <summary>One slot's session on the epoll path: its descriptor (-1: none), step, the step's deadline and how far it got.</summary>
internal struct EpollSession
{
    public int Fd;
    public EpollSessionState State;

    /// <summary>Timestamp of the connect call (latency is measured from it).</summary>
    public long Start;

    /// <summary>Timestamp by which the current step must finish (or the back-off ends).</summary>
    public long Deadline;

    /// <summary>Greeting bytes read so far.</summary>
    public int Received;

    /// <summary>Message bytes written so far, of <see cref="Length"/>.</summary>
    public int Written;
    public int Length;

    /// <summary>Whether the session is on the wire (connecting up to draining): it can time out.</summary>
    public readonly bool InFlight => State is EpollSessionState.Connecting or EpollSessionState.Greeting
        or EpollSessionState.Sending or EpollSessionState.Draining;

    /// <summary>Whether the session is past its greeting, so its slot no longer holds the launch window.</summary>
    public readonly bool PastGreeting => State is EpollSessionState.Sending or EpollSessionState.Draining;
}
