namespace TcpTalk.Load;

/// <summary>
/// Why a load connection failed, in <c>tcpload</c>'s categories (plus <see cref="Tls"/>). Counted, never fatal: the
/// run goes on, and the summary reports each kind.
/// </summary>
internal enum BenchErrorKind
{
    /// <summary>The server refused the connection (nothing listening, or its backlog is full).</summary>
    Refused,

    /// <summary>The server reset the connection (or the pipe broke).</summary>
    Reset,

    /// <summary>No progress within the per-operation timeout, or not finished when the run ended.</summary>
    Timeout,

    /// <summary>The greeting was longer than the limit without its terminator.</summary>
    BadGreeting,

    /// <summary>The server closed the connection before the greeting, or while messages were still being sent.</summary>
    Closed,

    /// <summary>No local address or port was left (ephemeral ports exhausted).</summary>
    Address,

    /// <summary>The TLS handshake failed.</summary>
    Tls,

    /// <summary>Anything else.</summary>
    Other,
}
