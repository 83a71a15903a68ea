using System.Net.Sockets;
using TcpTalk.Protocol;

namespace TcpTalk.Client;

/// <summary>
/// Which failures a <see cref="ReconnectingSender"/> retries: those a later attempt may not meet (the server is down,
/// restarting, busy, its journal unavailable, the network cut) versus those it would meet again forever (a message
/// too long for the server, a certificate it does not trust, a server that is not a TcpTalk server).
/// </summary>
public static class SendFailures
{
    /// <summary>Whether a later attempt may succeed where <paramref name="error"/> failed.</summary>
    public static bool IsRetryable(Exception error) => error switch
    {
        ServerErrorException refused => IsRetryableRefusal(refused.ServerMessage),
        TlsHandshakeException tls => tls.Transient,
        GreetingMissingException => true,            // a server killed between accept and greeting
        ProtocolException => false,                  // greeting too long, not a frame: the wrong kind of server
        HostNotFoundException => true,               // a resolver or a failover record coming back
        ConnectFailedException or TalkTimeoutException or ServerClosedException or NotAcknowledgedException => true,
        SocketException or IOException => true,
        _ => false,
    };

    /// <summary>
    /// Whether an error sentence of the server names a passing condition: busy (its connection limit), its journal
    /// unavailable (messages not stored), or the connection's own time limits. Every other refusal (a message too
    /// long, a malformed frame) would be repeated for the same message, so it is final.
    /// </summary>
    public static bool IsRetryableRefusal(string sentence)
    {
        ArgumentNullException.ThrowIfNull(sentence);
        return sentence.StartsWith("server busy", StringComparison.Ordinal)
            || sentence.StartsWith("messages not stored", StringComparison.Ordinal)
            || sentence.StartsWith("messages may not be stored", StringComparison.Ordinal)
            || sentence.EndsWith(" timeout)", StringComparison.Ordinal); // idle, message, write timeout
    }
}

/// <summary>The server closed the connection before sending its greeting (a <see cref="ProtocolException"/>, exit code as before).</summary>
internal sealed class GreetingMissingException(string message) : ProtocolException(message);
