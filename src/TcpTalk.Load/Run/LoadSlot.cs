using System.Net.Sockets;

namespace TcpTalk.Load;

/// <summary>
/// One load connection's place: its current socket, the deadline of the step it is in, and why it was aborted if it
/// was. The worker owns the socket; the runner's scan aborts it (by disposing it, which fails the pending operation)
/// when the deadline passes or the run ends. One lock per slot keeps "which socket" and "why" consistent.
/// </summary>
internal sealed class LoadSlot(int index, int greetingLimit)
{
    private const int NotAborted = -1;

    private readonly Lock _gate = new();
    private Socket? _socket;
    private long _deadline;
    private int _abortReason = NotAborted;

    /// <summary>The slot's number, part of session message ids.</summary>
    public int Index { get; } = index;

    /// <summary>Sessions this slot started (the <c>seq</c> of its message ids).</summary>
    public uint Sequence { get; set; }

    /// <summary>Sessions this slot completed.</summary>
    public long Completed { get; set; }

    /// <summary>Whether the slot still holds the launch window (its first connection is not greeted or failed yet).</summary>
    public bool HoldsWindow { get; set; } = true;

    /// <summary>Whether the current connection has been greeted.</summary>
    public bool Greeted { get; set; }

    /// <summary>Stream mode: whether this side has half-closed, so the server's close is expected.</summary>
    public bool HalfClosed { get; set; }

    /// <summary>Session mode: this slot's message, rewritten with a new id for each session.</summary>
    public byte[]? Message { get; set; }

    /// <summary>The current connection's socket (worker's view).</summary>
    public Socket? Socket => _socket;

    /// <summary>The current connection's stream (plain or TLS), disposed with the socket by <see cref="Detach"/>.</summary>
    public Stream? Stream { get; set; }

    /// <summary>Bytes of the greeting read so far, and their buffer.</summary>
    public byte[] GreetingBuffer { get; } = new byte[greetingLimit];

    /// <summary>
    /// Why the current connection was aborted from outside: an error kind to count, <see cref="EndedByRun"/>, or null
    /// when it was not.
    /// </summary>
    public int? AbortReason
    {
        get
        {
            int reason = Volatile.Read(ref _abortReason);
            return reason == NotAborted ? null : reason;
        }
    }

    /// <summary>The abort reason of a connection the run ended normally (a held connection at the end): not an error.</summary>
    public const int EndedByRun = 1000;

    /// <summary>Makes <paramref name="socket"/> this slot's current connection, with no deadline and no abort.</summary>
    public void Attach(Socket socket)
    {
        lock (_gate)
        {
            _socket = socket;
            _deadline = 0;
            _abortReason = NotAborted;
            Greeted = false;
            HalfClosed = false;
        }
    }

    /// <summary>Sets the deadline (a <see cref="System.Diagnostics.Stopwatch"/> timestamp) of the current step; 0: none.</summary>
    public void SetDeadline(long timestamp) => Volatile.Write(ref _deadline, timestamp);

    /// <summary>Closes the current connection (the worker is done with it).</summary>
    public void Detach()
    {
        Socket? socket;
        lock (_gate)
        {
            socket = _socket;
            _socket = null;
            _deadline = 0;
        }

        Stream?.Dispose();
        Stream = null;
        socket?.Dispose();
    }

    /// <summary>Aborts the current connection as a timeout when its deadline has passed.</summary>
    public void ExpireIfDue(long now)
    {
        long deadline = Volatile.Read(ref _deadline);
        if (deadline != 0 && now >= deadline)
        {
            Abort((int)BenchErrorKind.Timeout, onlyIfDeadlinePassed: now);
        }
    }

    /// <summary>Aborts the current connection (if any) for <paramref name="reason"/>; the first reason given wins.</summary>
    public void Abort(int reason) => Abort(reason, onlyIfDeadlinePassed: 0);

    private void Abort(int reason, long onlyIfDeadlinePassed)
    {
        Socket? socket;
        lock (_gate)
        {
            if (_socket is null || _abortReason != NotAborted
                || (onlyIfDeadlinePassed != 0 && (_deadline == 0 || onlyIfDeadlinePassed < _deadline)))
            {
                return;
            }

            _abortReason = reason;
            socket = _socket;
        }

        // Disposing fails the operation in progress (connect, read or write) at once; the worker sees why here.
        socket.Dispose();
    }
}
