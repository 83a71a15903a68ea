using System.Net.Sockets;

namespace TcpTalk.Client;

/// <summary>A client operation failed for a reason a user can act on. The message is one sentence.</summary>
public abstract class TalkClientException : IOException
{
    /// <summary>Creates the exception.</summary>
    protected TalkClientException(string message, Exception? innerException = null) : base(message, innerException) { }
}

/// <summary>The host name could not be resolved to any address.</summary>
public sealed class HostNotFoundException(string host, Exception? innerException = null)
    : TalkClientException($"host '{host}' not found", innerException)
{
    /// <summary>The name that was looked up.</summary>
    public string Host { get; } = host;
}

/// <summary>No address of the host accepted the connection: refused, unreachable, or otherwise failed.</summary>
public sealed class ConnectFailedException(string message, SocketError error, Exception? innerException = null)
    : TalkClientException(message, innerException)
{
    /// <summary>The error of the last attempt (<see cref="SocketError.ConnectionRefused"/>, ...).</summary>
    public SocketError Error { get; } = error;
}

/// <summary>The server did not answer within the configured time.</summary>
public sealed class TalkTimeoutException(string message) : TalkClientException(message);

/// <summary>
/// The server closed or reset the connection before it took everything that was sent, for example the classic C
/// server, which reads one 128-byte block and closes.
/// </summary>
public sealed class ServerClosedException(string message, Exception? innerException = null)
    : TalkClientException(message, innerException);

/// <summary>The server answered with an error frame (<c>error: ...</c>) and closed the connection.</summary>
public sealed class ServerErrorException(string serverMessage)
    : TalkClientException($"server refused: {serverMessage}")
{
    /// <summary>The server's sentence, escaped for display.</summary>
    public string ServerMessage { get; } = serverMessage;
}

/// <summary>
/// The TLS handshake failed: the server's certificate is not trusted (chain or name), its fingerprint is not the
/// pinned one, the server requires a client certificate or refused the one given, the handshake timed out, or the
/// server does not speak TLS. The message says which, in one sentence.
/// </summary>
public sealed class TlsHandshakeException(string message, Exception? innerException = null)
    : TalkClientException(message, innerException)
{
    /// <summary>
    /// True when the handshake broke off for a passing reason (it timed out, the connection broke during it), so a
    /// later attempt may succeed; false for a trust, certificate or protocol failure, which would repeat.
    /// </summary>
    public bool Transient { get; init; }
}

/// <summary>The server did not acknowledge every message in time: those messages may not be stored.</summary>
public sealed class NotAcknowledgedException(int sent, IReadOnlyList<long> acknowledged, string message)
    : TalkClientException(message)
{
    /// <summary>Messages sent.</summary>
    public int Sent { get; } = sent;

    /// <summary>Journal ids acknowledged, in arrival order.</summary>
    public IReadOnlyList<long> Acknowledged { get; } = acknowledged;
}
