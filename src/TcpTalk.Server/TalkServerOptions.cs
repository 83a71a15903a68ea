using System.Net;
using System.Text;
using TcpTalk.Protocol;
using TcpTalk.Messages;

namespace TcpTalk.Server;

/// <summary>Settings of a <see cref="TalkServer"/>. Check them with <see cref="Validate"/>; the server does so at start.</summary>
public sealed class TalkServerOptions
{
    /// <summary>
    /// Endpoints to listen on: <see cref="IPEndPoint"/>s, and <see cref="System.Net.Sockets.UnixDomainSocketEndPoint"/>s
    /// for unix sockets (a stale socket file nobody listens on is replaced; the file is removed at stop; its mode is
    /// <see cref="UnixSocketMode"/>). Default: empty, meaning all interfaces on <see cref="Port"/> through one
    /// dual-mode IPv6 socket (IPv4 only where the OS has no IPv6). Must be empty when <see cref="InheritedListeners"/> is not.
    /// </summary>
    public IList<EndPoint> Listen { get; } = new List<EndPoint>();

    /// <summary>
    /// Sockets already bound and listening that the server serves instead of binding its own (systemd socket
    /// activation: <see cref="SystemdSockets.Take"/>); TCP or unix stream sockets. The server owns them from
    /// <see cref="TalkServer.StartAsync"/> on and closes them at stop; it never removes a unix socket's file (the
    /// socket unit owns it). Default: empty. When set, <see cref="Listen"/> must be empty and <see cref="Port"/> is not used.
    /// </summary>
    public IList<System.Net.Sockets.Socket> InheritedListeners { get; } = new List<System.Net.Sockets.Socket>();

    /// <summary>
    /// The file mode of the unix sockets the server creates (<see cref="Listen"/>): who may connect. Default 0660
    /// (owner and group read and write: connecting needs write permission), so only the server's user and group
    /// can connect whatever the umask; 0666 lets everyone. Ignored on Windows, which has no file modes.
    /// </summary>
    public UnixFileMode UnixSocketMode { get; set; } = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;

    /// <summary>
    /// The port used when <see cref="Listen"/> is empty. Default 12345, the classic programs' port; 0 lets the OS
    /// choose (see <see cref="TalkServer.BoundEndpoints"/>).
    /// </summary>
    public int Port { get; set; } = HostAndPort.DefaultPort;

    /// <summary>Message framing for both directions. Default <see cref="FramingMode.Nul"/>, as the classic programs frame.</summary>
    public FramingMode Framing { get; set; } = FramingMode.Nul;

    /// <summary>
    /// Longest message accepted, in bytes, terminator not counted. Default 65536: far above any human-typed line,
    /// small enough that 10,000 connections each holding a partial message stay under 1 GiB. A longer message gets an
    /// error frame and the connection is closed. Range 1 to 1 GiB.
    /// </summary>
    public int MaxMessageBytes { get; set; } = MessageFramer.DefaultMaxMessageBytes;

    /// <summary>
    /// Encoding of message text, used to print messages and to encode the greeting. Default UTF-8. Must keep ASCII
    /// as single bytes (see <see cref="MessageText.GetEncoding"/>). The bytes themselves are never changed.
    /// </summary>
    public Encoding Encoding { get; set; } = MessageText.Utf8;

    /// <summary>Greeting template; <c>{address}</c> and <c>{port}</c> are the client's. Default <c>Welcome {address}!</c>.</summary>
    public string Greeting { get; set; } = GreetingTemplate.DefaultText;

    /// <summary>
    /// How long a graceful stop waits for connections to finish the message in flight before aborting them.
    /// Default 5 s: long enough for a slow link to finish a 64 KiB message, short enough for service managers
    /// (systemd waits 90 s). Zero aborts at once.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Length of each listener's queue of connections not yet accepted. Default 1024 (the OS may cap it, e.g. Linux
    /// net.core.somaxconn): bursts of thousands of clients connecting at once are queued, not refused. Range 1 to 65535.
    /// </summary>
    public int ListenBacklog { get; set; } = 1024;

    /// <summary>
    /// Durable store that every message goes to before it is printed or acknowledged. Default null: messages are only
    /// handed to the sink (the classic server's behaviour). The server does not own it: dispose it after the server.
    /// </summary>
    public IMessageJournal? Journal { get; set; }

    /// <summary>
    /// Send <c>ack &lt;id&gt;</c> to the client once each message is committed to <see cref="Journal"/>. Default false:
    /// nothing extra on the wire, so the classic C client is unaffected. Requires a journal.
    /// </summary>
    public bool Acknowledge { get; set; }

    /// <summary>
    /// Most connections open at once. Past it a new client gets one <c>error: server busy</c> line and is closed at
    /// once (it never waits for a greeting that does not come). 0 means no limit. Default: 10000, or the process's
    /// limit of open files (RLIMIT_NOFILE, <c>ulimit -n</c>) minus a reserve of 256 when that is lower (on Linux and
    /// macOS; 10000 on Windows), so the server refuses clients politely instead of running out of descriptors: the
    /// listeners and the journal always have some left, and the JIT runtime, which aborts without descriptors, never
    /// meets that. 10000 caps it because 10000 connections each holding a partial 64 KiB message stay under 1 GiB.
    /// </summary>
    public int MaxConnections { get; set; } = DescriptorLimit.DefaultMaxConnections;

    /// <summary>
    /// Most connections open at once from one client address. Default 0: no limit, since many users may share one
    /// NAT address. Past it the new connection gets an error line and is closed.
    /// </summary>
    public int MaxConnectionsPerAddress { get; set; }

    /// <summary>
    /// Longest time a connection may go without completing a message (counted from the greeting, then from each
    /// complete message). Default 60 s: a person typing pauses less, a vanished or parked client is let go.
    /// <see cref="TimeSpan.Zero"/> means no limit.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Longest time one message may take from its first byte to its terminator, not reset by each new byte, so a
    /// slowloris client dribbling one byte at a time is cut off. Default 30 s (64 KiB at 2 KiB/s).
    /// <see cref="TimeSpan.Zero"/> means no limit.
    /// </summary>
    public TimeSpan MessageTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Longest time a send to a client (greeting, acknowledgements, error line) may stay blocked because the client
    /// does not read. Default 30 s. Such a client is disconnected; one pending send per connection bounds memory.
    /// <see cref="TimeSpan.Zero"/> means no limit.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// TCP keepalive idle time on accepted connections, so a peer that vanished without a FIN or RST (power loss,
    /// cable pulled, NAT state dropped) is found and its connection closed: after this much silence the OS sends
    /// <see cref="KeepAliveCount"/> probes <see cref="KeepAliveInterval"/> apart, and closes the connection when
    /// none is answered. Default 2 minutes (so a vanished peer is found within 2 min 50 s with the other defaults):
    /// well below the 5 minutes many NAT gateways keep an idle mapping, and a probe costs one empty packet.
    /// Whole seconds, at least 1 s. <see cref="TimeSpan.Zero"/> turns keepalive off.
    /// </summary>
    public TimeSpan KeepAliveTime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Time between unanswered TCP keepalive probes (see <see cref="KeepAliveTime"/>). Default 10 s: a peer that
    /// merely lost a packet answers the next probe. Whole seconds, 1 s to 1 hour.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Unanswered TCP keepalive probes after which the OS closes the connection (see <see cref="KeepAliveTime"/>).
    /// Default 5, so a peer must miss 50 s of probes with the default interval. Range 1 to 127 (Linux's maximum).
    /// </summary>
    public int KeepAliveCount { get; set; } = 5;

    /// <summary>
    /// Client networks that may connect (CIDR, IPv4 or IPv6). Default empty: every address. When not empty, only
    /// addresses inside one of them are served. Checked before the greeting.
    /// </summary>
    public IList<System.Net.IPNetwork> Allow { get; } = new List<System.Net.IPNetwork>();

    /// <summary>
    /// Client networks refused before the greeting (closed without a word, logged at Warning). Deny wins over
    /// <see cref="Allow"/>. Default empty.
    /// </summary>
    public IList<System.Net.IPNetwork> Deny { get; } = new List<System.Net.IPNetwork>();

    /// <summary>
    /// Networks of load balancers (HAProxy, nginx) whose connections begin with a PROXY protocol header, v1 or v2
    /// (haproxy's doc/proxy-protocol.txt). Default empty: no address is trusted and every connection is served as its
    /// socket says. A connection from one of these networks must start with a valid header within
    /// <see cref="ProxyHeaderTimeout"/>, and the header's source then is the client's address everywhere (greeting,
    /// output, journal, allow/deny, per-address limits, logs); a missing, malformed or late header closes it without a
    /// greeting. v1 <c>UNKNOWN</c> and v2 <c>LOCAL</c> (health checks) are served with the socket's own endpoints. With
    /// TLS, the header comes before the handshake, as balancers send it. Trust only addresses that only a balancer can
    /// connect from: whoever connects from them can claim to be any client.
    /// </summary>
    public IList<System.Net.IPNetwork> TrustedProxies { get; } = new List<System.Net.IPNetwork>();

    /// <summary>
    /// Longest time a connection from <see cref="TrustedProxies"/> may take to send its whole PROXY header, from the
    /// accept. Default 5 s: a balancer sends the header at once, in its first packet, so only a broken or impostor peer
    /// takes longer, and it must not hold a connection slot meanwhile. Range: more than 0, at most 1 hour.
    /// </summary>
    public TimeSpan ProxyHeaderTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// TLS for every connection: the handshake, then the greeting and messages encrypted. Default null: plain TCP,
    /// byte-compatible with the classic C programs (which cannot speak TLS).
    /// </summary>
    public ServerTlsOptions? Tls { get; set; }

    /// <summary>
    /// Creates the meter <c>TcpTalk.Server</c> (dependency injection passes the host's). Default null: one meter shared
    /// by every server of the process. Tests pass their own to observe one server alone.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>Clock for receive timestamps and timeouts. Default <see cref="TimeProvider.System"/>; tests inject a fake.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// The properties a running server cannot take from <see cref="TalkServer.Reconfigure"/>, in declaration order:
    /// what its listeners were bound with, the framing, the journal and acknowledgements, the meter factory and the
    /// clock. The hosting's settings keys of the same names (<c>Server:Port</c>) need a restart for this reason.
    /// </summary>
    public static IReadOnlyList<string> RestartOnlyProperties => RestartOnlyOptions.Names;

    /// <summary>
    /// Sets each of <see cref="RestartOnlyProperties"/> to the value <paramref name="inForce"/> has (the same
    /// endpoints and inherited sockets, the same journal, meter factory and clock) and leaves every other property as
    /// it is, so these options can be given to <see cref="TalkServer.Reconfigure"/> of the server serving
    /// <paramref name="inForce"/>.
    /// </summary>
    public void CopyRestartOnlyFrom(TalkServerOptions inForce)
    {
        ArgumentNullException.ThrowIfNull(inForce);
        RestartOnlyOptions.Copy(inForce, this);
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first setting out of range and its allowed range (the
    /// <see cref="OptionProblem.Message"/> of the first of <see cref="FindProblems"/>).
    /// </summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Encoding);
        ArgumentNullException.ThrowIfNull(TimeProvider);
        var problems = FindProblems();
        if (problems.Count > 0)
        {
            throw new ArgumentException(problems[0].Message);
        }
    }

    /// <summary>
    /// Every setting that cannot be used, in declaration order (those of <see cref="Tls"/> after the server's own),
    /// each as its property, value and allowed range; empty when <see cref="Validate"/> would pass.
    /// </summary>
    public IReadOnlyList<OptionProblem> FindProblems()
    {
        var problems = new List<OptionProblem>();
        void Range(string property, object value, bool ok, string requirement)
        {
            if (!ok)
            {
                problems.Add(OptionProblem.OutOfRange(property, value, requirement));
            }
        }

        Range(nameof(Port), Port, Port is >= 0 and <= 65535, "must be between 0 and 65535");
        Range(nameof(MaxMessageBytes), MaxMessageBytes, MaxMessageBytes is >= 1 and <= MessageFramer.MaxAllowedMessageBytes,
            $"must be between 1 and {MessageFramer.MaxAllowedMessageBytes}");
        Range(nameof(ShutdownTimeout), ShutdownTimeout, ShutdownTimeout >= TimeSpan.Zero && ShutdownTimeout <= TimeSpan.FromHours(1), "must be between 0 and 1 hour");
        Range(nameof(ListenBacklog), ListenBacklog, ListenBacklog is >= 1 and <= 65535, "must be between 1 and 65535");
        Range(nameof(Framing), Framing, Framing is FramingMode.Nul or FramingMode.Line or FramingMode.Octet or FramingMode.U16BE or FramingMode.U32BE,
            "must be Nul, Line, Octet, U16BE or U32BE");
        Range(nameof(MaxConnections), MaxConnections, MaxConnections >= 0, "must be 0 (no limit) or more");
        Range(nameof(MaxConnectionsPerAddress), MaxConnectionsPerAddress, MaxConnectionsPerAddress >= 0, "must be 0 (no limit) or more");
        foreach (var (name, value) in new[] { (nameof(IdleTimeout), IdleTimeout), (nameof(MessageTimeout), MessageTimeout), (nameof(WriteTimeout), WriteTimeout), (nameof(KeepAliveTime), KeepAliveTime) })
        {
            Range(name, value, value >= TimeSpan.Zero && value <= TimeSpan.FromDays(1), "must be between 0 (no limit) and 1 day");
        }

        if (KeepAliveTime > TimeSpan.Zero && KeepAliveTime <= TimeSpan.FromDays(1))
        {
            Range(nameof(KeepAliveTime), KeepAliveTime, KeepAliveTime >= TimeSpan.FromSeconds(1), "must be 0 (off) or at least 1 second");
        }

        Range(nameof(KeepAliveInterval), KeepAliveInterval, KeepAliveInterval >= TimeSpan.FromSeconds(1) && KeepAliveInterval <= TimeSpan.FromHours(1),
            "must be between 1 second and 1 hour");
        Range(nameof(KeepAliveCount), KeepAliveCount, KeepAliveCount is >= 1 and <= 127, "must be between 1 and 127");
        Range(nameof(UnixSocketMode), UnixSocketMode, ((int)UnixSocketMode & ~0x1FF) == 0, "must be a permission mode between 0 and 0777");
        if (InheritedListeners.Count > 0 && Listen.Count > 0)
        {
            problems.Add(OptionProblem.Unmet(nameof(Listen), "must be empty when the server serves inherited listeners (systemd socket activation decides where it listens)"));
        }

        foreach (var endpoint in Listen)
        {
            if (endpoint is not (IPEndPoint or System.Net.Sockets.UnixDomainSocketEndPoint))
            {
                problems.Add(OptionProblem.Unmet(nameof(Listen), $"has {endpoint.GetType().Name} {endpoint}: only IP and unix socket endpoints can be listened on"));
            }
        }
        Range(nameof(ProxyHeaderTimeout), ProxyHeaderTimeout, ProxyHeaderTimeout > TimeSpan.Zero && ProxyHeaderTimeout <= TimeSpan.FromHours(1),
            "must be more than 0 and at most 1 hour");
        if (Acknowledge && Journal is null)
        {
            problems.Add(OptionProblem.Unmet(nameof(Acknowledge), "needs a Journal: acknowledgements carry the journal id of a stored message"));
        }

        if (Tls is not null)
        {
            problems.AddRange(Tls.FindProblems());
        }

        if (Greeting is null)
        {
            problems.Add(OptionProblem.Unmet(nameof(Greeting), "must not be null"));
        }
        else if (Encoding is not null)
        {
            try
            {
                GreetingTemplate.Parse(Greeting, Encoding);
            }
            catch (FormatException e)
            {
                problems.Add(OptionProblem.Unmet(nameof(Greeting), $"is invalid: {e.Message}"));
            }
        }

        return problems;
    }
}
