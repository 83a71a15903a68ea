namespace TcpTalk.Client;

/// <summary>Settings of a <see cref="ReconnectingSender"/>: the connection's (<see cref="Client"/>) and the retrying's.</summary>
public sealed class ReconnectingSenderOptions
{
    /// <summary>
    /// Settings of each connection (framing, timeouts, TLS, resolver, clock). Default the defaults.
    /// <see cref="TalkClientOptions.RequireAcknowledgements"/> is implied: a message leaves the spool only once acknowledged.
    /// </summary>
    public TalkClientOptions Client { get; set; } = new();

    /// <summary>
    /// Wait before the first retry after a failure. Default 100 ms: a restarting server is usually back within a few
    /// of these. Each further failure doubles it up to <see cref="MaxRetryDelay"/>, and a random half of it is
    /// dropped (jitter), so that many clients of one server do not come back in step. Must be positive.
    /// </summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between two attempts. Default 30 s, the order of a failover. At least <see cref="InitialRetryDelay"/>.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long one outage (from the first failure after the last acknowledgement) may last before the sender gives
    /// up and throws the last failure. Default null: forever. Must be positive when set.
    /// </summary>
    public TimeSpan? RetryFor { get; set; }

    /// <summary>
    /// Most payload bytes the spool may hold: <see cref="ReconnectingSender.AppendAsync"/> waits (backpressure) while
    /// a batch would pass it. Default 1 GiB. A batch larger than the limit is still taken into an empty spool. Must be positive.
    /// </summary>
    public long MaxSpoolBytes { get; set; } = 1L << 30;

    /// <summary>
    /// Most messages sent and not yet acknowledged on one connection. Default 1024: enough to keep a journal's group
    /// commit busy, and what may be sent twice when an acknowledgement is lost. Range 1 to 1,000,000.
    /// </summary>
    public int MaxInFlight { get; set; } = 1024;

    /// <summary>Called after each failure that will be retried, before the wait (for <c>-v</c>). Must return quickly.</summary>
    public Action<SendRetry>? OnRetry { get; set; }

    /// <summary>Called once each connection is up, its greeting read (for <c>-v</c>). Must return quickly.</summary>
    public Action<SenderConnected>? OnConnected { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Client);
        Client.Validate();
        if (InitialRetryDelay <= TimeSpan.Zero)
        {
            throw new ArgumentException($"InitialRetryDelay is {InitialRetryDelay}; it must be positive");
        }

        if (MaxRetryDelay < InitialRetryDelay)
        {
            throw new ArgumentException($"MaxRetryDelay is {MaxRetryDelay}; it must be at least InitialRetryDelay ({InitialRetryDelay})");
        }

        if (RetryFor is { } retryFor && retryFor <= TimeSpan.Zero)
        {
            throw new ArgumentException($"RetryFor is {retryFor}; it must be positive, or null for no limit");
        }

        if (MaxSpoolBytes <= 0)
        {
            throw new ArgumentException($"MaxSpoolBytes is {MaxSpoolBytes}; it must be positive");
        }

        if (MaxInFlight is < 1 or > 1_000_000)
        {
            throw new ArgumentException($"MaxInFlight is {MaxInFlight}; it must be between 1 and 1000000");
        }
    }
}

/// <summary>A failure the sender will retry, as reported to <see cref="ReconnectingSenderOptions.OnRetry"/>.</summary>
/// <param name="Attempt">Failures in a row so far in this outage: 1 for the first.</param>
/// <param name="Error">What failed.</param>
/// <param name="Delay">The wait before the next attempt.</param>
/// <param name="Backlog">What the spool holds.</param>
public sealed record SendRetry(int Attempt, Exception Error, TimeSpan Delay, SpoolBacklog Backlog);

/// <summary>A connection the sender opened, as reported to <see cref="ReconnectingSenderOptions.OnConnected"/>.</summary>
/// <param name="Client">The connection: its endpoints and greeting (do not send on it).</param>
/// <param name="Outage">Time since the first failure of the outage this connection ends; zero for the first connection.</param>
/// <param name="Backlog">What the spool holds: everything in it is sent again, in order.</param>
public sealed record SenderConnected(TalkClient Client, TimeSpan Outage, SpoolBacklog Backlog);
