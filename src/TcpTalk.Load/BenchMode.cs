namespace TcpTalk.Load;

/// <summary>What each load connection does; the same three modes, counted the same way, as <c>tcpload</c>.</summary>
public enum BenchMode
{
    /// <summary>
    /// Each connection slot repeats a whole session: connect, read the greeting, send one message, half-close, read
    /// until the server closes. Latency is from the connect call to the server's close.
    /// </summary>
    Session,

    /// <summary>
    /// Each connection sends messages back to back until the time or message count is reached, then half-closes and
    /// waits for the server to close (the drain). Latency is from the connect call to the greeting.
    /// </summary>
    Stream,

    /// <summary>
    /// Opens every connection (a window of them awaiting the greeting at a time) and holds them open until the time is
    /// up, counting those the server closes early. Latency is from the connect call to the greeting.
    /// </summary>
    Hold,
}
