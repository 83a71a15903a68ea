using System.Text;
using Microsoft.Extensions.Logging;
using TcpTalk.Messages;
using TcpTalk.Protocol;

namespace TcpTalk.Server;

/// <summary>
/// What the connections of one server share, made at construction and again at each
/// <see cref="TalkServer.Reconfigure"/> (a connection keeps the one it was accepted with): all that a
/// <see cref="ConnectionHandler"/> may know of its server. The handler sees no other server state.
/// </summary>
internal sealed class ConnectionContext
{
    public required ILogger Logger { get; init; }

    /// <summary>The options this connection was accepted under (its timeouts); a reload gives later connections others.</summary>
    public required TalkServerOptions Options { get; init; }

    public required MessageFramer Framer { get; init; }

    public required GreetingTemplate Greeting { get; init; }

    public required TimeProvider TimeProvider { get; init; }

    public required ServerMetrics Metrics { get; init; }

    /// <summary>What every TLS connection shares, or null for plain TCP.</summary>
    public required TlsTransport.Settings? Tls { get; init; }

    /// <summary>The encoding of message text, handed on with every batch.</summary>
    public required Encoding Encoding { get; init; }

    /// <summary>Stores every batch first, or null without a journal.</summary>
    public required IMessageJournal? Journal { get; init; }

    /// <summary>Takes every batch once stored.</summary>
    public required IMessageSink Sink { get; init; }

    /// <summary>Whether to send <c>ack &lt;id&gt;</c> for every stored message.</summary>
    public required bool Acknowledge { get; init; }

    /// <summary>Cancelled when the server begins to stop: idle waits and TLS handshakes end at once.</summary>
    public required CancellationToken Stopping { get; init; }

    /// <summary>
    /// Cancelled when the server gives up waiting (after <see cref="TalkServerOptions.ShutdownTimeout"/>, or when the
    /// caller of <see cref="TalkServer.StopAsync"/> cancels): handed to the journal and the sink, which should then
    /// stop waiting too.
    /// </summary>
    public required CancellationToken Aborting { get; init; }

    /// <summary>Counts failed TLS handshakes, so they are logged at Warning at most once a second.</summary>
    public required OncePerSecond TlsFailures { get; init; }

    /// <summary>Reads the PROXY header of connections from trusted proxies, or null when the server trusts none.</summary>
    public required ProxyHeaderReader? ProxyHeaders { get; init; }

    /// <summary>
    /// Checks the client a PROXY header named (<see cref="ConnectionAdmission.CheckClient"/>) and refuses it when it
    /// may not be served; every other connection was admitted before its handler was made.
    /// </summary>
    public required ConnectionAdmission Admission { get; init; }

    /// <summary>Called once by each handler when its connection is closed.</summary>
    public required Action<ConnectionHandler> Closed { get; init; }
}
