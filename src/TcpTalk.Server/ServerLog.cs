using Microsoft.Extensions.Logging;

namespace TcpTalk.Server;

/// <summary>Every log message of the server, with stable event ids. Message contents never go to the log.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Information, "Listening on {Endpoint}")]
    public static partial void Listening(ILogger logger, string endpoint);

    [LoggerMessage(2, LogLevel.Information, "Stopping: no new connections; waiting up to {Timeout} for {Count} connection(s) to finish")]
    public static partial void Stopping(ILogger logger, TimeSpan timeout, int count);

    [LoggerMessage(3, LogLevel.Information, "Stopped after {Accepted} connection(s)")]
    public static partial void Stopped(ILogger logger, long accepted);

    [LoggerMessage(4, LogLevel.Warning, "Shutdown timeout: aborting {Count} connection(s) still mid-message")]
    public static partial void AbortingConnections(ILogger logger, int count);

    [LoggerMessage(6, LogLevel.Warning, "Stopped with {Count} connection(s) still running after the abort: their journal or sink ignored its cancellation token")]
    public static partial void ConnectionsLeftRunning(ILogger logger, int count);

    [LoggerMessage(5, LogLevel.Information, "TLS certificate {Subject} SHA256 {Fingerprint}, valid until {NotAfter:yyyy-MM-dd}; client certificates {ClientCertificates}")]
    public static partial void TlsCertificate(ILogger logger, string subject, string fingerprint, DateTime notAfter, string clientCertificates);

    [LoggerMessage(10, LogLevel.Debug, "Connection {Id} opened: {Protocol} local {Local} remote {Remote}")]
    public static partial void ConnectionOpened(ILogger logger, long id, string protocol, string local, string remote);

    [LoggerMessage(11, LogLevel.Debug, "Connection {Id} closed: {Protocol} local {Local} remote {Remote}; {Messages} message(s), {Bytes} byte(s) received; {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, long id, string protocol, string local, string remote, long messages, long bytes, string reason);

    [LoggerMessage(12, LogLevel.Debug, "Connection {Id} from {Remote}: peer reset or vanished ({Error})")]
    public static partial void ConnectionReset(ILogger logger, long id, string remote, string error);

    [LoggerMessage(13, LogLevel.Debug, "Connection {Id} from {Remote}: TLS established ({Protocol}, client certificate {ClientCertificate})")]
    public static partial void TlsEstablished(ILogger logger, long id, string remote, string protocol, string clientCertificate);

    [LoggerMessage(14, LogLevel.Debug, "Connection {Id} from {Remote}: TLS failed: {Reason}")]
    public static partial void TlsFailed(ILogger logger, long id, string remote, string reason);

    [LoggerMessage(25, LogLevel.Warning, "Connection {Id} from {Remote}: TLS handshake failed: {Reason} ({Count} failed since the last such line)")]
    public static partial void TlsHandshakeFailed(ILogger logger, long id, string remote, string reason, long count);

    [LoggerMessage(20, LogLevel.Warning, "Connection {Id} from {Remote} refused a message: {Reason}")]
    public static partial void MessageRefused(ILogger logger, long id, string remote, string reason);

    [LoggerMessage(21, LogLevel.Debug, "Connection {Id} from {Remote} closed: the journal did not store its messages ({Reason})")]
    public static partial void JournalRefused(ILogger logger, long id, string remote, string reason);

    [LoggerMessage(22, LogLevel.Warning, "Refused a connection from {Remote}: {Reason} ({Count} refused since the last such line)")]
    public static partial void ConnectionRefused(ILogger logger, string remote, string reason, long count);

    [LoggerMessage(23, LogLevel.Warning, "Connection {Id} from {Remote} closed: {Reason}")]
    public static partial void ConnectionTimedOut(ILogger logger, long id, string remote, string reason);

    [LoggerMessage(24, LogLevel.Warning, "Connection {Id} from {Remote} {Reason}")]
    public static partial void ClientCertificateRefused(ILogger logger, long id, string remote, string reason);

    [LoggerMessage(61, LogLevel.Warning, "Connection {Id} from trusted proxy {Proxy} closed without a greeting: {Reason} ({Count} PROXY header(s) refused since the last such line)")]
    public static partial void ProxyHeaderRefused(ILogger logger, long id, string proxy, string reason, long count);

    [LoggerMessage(60, LogLevel.Debug, "Connection {Id} from trusted proxy {Proxy}: {Header}")]
    public static partial void ProxyHeaderAccepted(ILogger logger, long id, string proxy, string header);

    [LoggerMessage(30, LogLevel.Warning, "Accept on {Endpoint} failed ({Error}); retrying in {Delay} ms")]
    public static partial void AcceptFailed(ILogger logger, string endpoint, string error, int delay);

    [LoggerMessage(31, LogLevel.Critical, "The accept loop on {Endpoint} died; no new connections are taken there")]
    public static partial void AcceptLoopDied(ILogger logger, Exception exception, string endpoint);

    [LoggerMessage(40, LogLevel.Error, "Connection {Id} from {Remote} failed unexpectedly")]
    public static partial void ConnectionFailed(ILogger logger, Exception exception, long id, string remote);
}
