namespace TcpTalk.Cli;

/// <summary>The process exit codes of <c>tcptalk</c>. Documented in README.md; scripts rely on them, so never renumber.</summary>
public enum ExitCode
{
    /// <summary>Everything worked.</summary>
    Success = 0,

    /// <summary>An unexpected failure (a bug): the message says what happened.</summary>
    Failure = 1,

    /// <summary>The command line is wrong: unknown command or option, bad value, missing argument, a certificate or key file that cannot be used; or no command at all (the help is printed).</summary>
    Usage = 2,

    /// <summary><c>send</c>: the host name has no address.</summary>
    HostNotFound = 3,

    /// <summary><c>send</c>: every address refused the connection or was unreachable.</summary>
    ConnectFailed = 4,

    /// <summary><c>send</c>: no connection, greeting or close within the time allowed.</summary>
    Timeout = 5,

    /// <summary><c>send</c>: the server broke the protocol (no greeting, greeting over the size limit...).</summary>
    ProtocolError = 6,

    /// <summary><c>send</c>: the server reset or closed the connection before it took every message.</summary>
    ConnectionClosed = 7,

    /// <summary><c>send</c>: the server answered a message with an error frame (e.g. message too long).</summary>
    ServerRefused = 8,

    /// <summary><c>send --ack</c>: some message was not acknowledged in time, so it may not be stored.</summary>
    NotAcknowledged = 9,

    /// <summary><c>serve</c>: a listener could not be bound (address in use, permission denied...).</summary>
    ListenFailed = 10,

    /// <summary><c>serve</c>, <c>messages</c>: the journal cannot be used (in use by another server, not a journal, newer schema, cannot be created).</summary>
    JournalFailed = 11,

    /// <summary><c>send --tls</c>: the TLS handshake failed (untrusted certificate, pin mismatch, client certificate required or refused, timeout, not a TLS server).</summary>
    TlsFailed = 12,

    /// <summary><c>send --spool</c>: the spool cannot be used (in use by another process, not a spool, damaged, cannot be created).</summary>
    SpoolFailed = 13,

    /// <summary>Interrupted by Ctrl+C or SIGTERM before finishing (<c>send</c>, <c>bench</c>, <c>messages --follow</c>; <c>serve</c> stops gracefully with 0).</summary>
    Interrupted = 130,
}
