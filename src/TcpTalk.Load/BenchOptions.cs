using TcpTalk.Client;
using TcpTalk.Protocol;

namespace TcpTalk.Load;

/// <summary>What <see cref="BenchRunner"/> loads, how hard and for how long. Defaults are <c>tcpload</c>'s.</summary>
public sealed class BenchOptions
{
    /// <summary>Shortest message: room for an id (<c>m0-&lt;slot&gt;-&lt;seq&gt;</c>) that run.py and the tests can count.</summary>
    public const int MinMessageBytes = 16;

    /// <summary>Longest message, as in <c>tcpload</c>.</summary>
    public const int MaxMessageBytes = 65536;

    /// <summary>Most connections in one run.</summary>
    public const int MaxConnections = 1_000_000;

    /// <summary>
    /// The server: a host name or address, resolved once by a probe connection whose address every load connection
    /// then uses; also the TLS server name (SNI) unless <see cref="ClientTlsOptions.TargetHost"/> says otherwise.
    /// </summary>
    public required string Host { get; init; }

    /// <summary>The server's TCP port.</summary>
    public required int Port { get; init; }

    /// <summary>What each connection does. Default <see cref="BenchMode.Session"/>.</summary>
    public BenchMode Mode { get; init; } = BenchMode.Session;

    /// <summary>Concurrent connections (session: slots each running one session after another). Default 64.</summary>
    public int Connections { get; init; } = 64;

    /// <summary>
    /// The load window: no new session or message starts after it (sessions in flight may finish within
    /// <see cref="Timeout"/>, streams drain within <see cref="DrainTimeout"/>). Null: until <see cref="Messages"/> are done.
    /// </summary>
    public TimeSpan? Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Stop after this many messages: session mode, sessions started (each sends one message); stream mode, messages
    /// sent in all (split evenly over the connections). Null: no limit (then <see cref="Duration"/> must be set).
    /// </summary>
    public long? Messages { get; init; }

    /// <summary>Payload bytes per message, terminator not counted. Default 32 (tcpload's).</summary>
    public int MessageBytes { get; init; } = 32;

    /// <summary>Message framing (also ends the greeting). Default NUL.</summary>
    public FramingMode Framing { get; init; } = FramingMode.Nul;

    /// <summary>
    /// TLS for every load connection, trusting the server as <c>tcptalk send</c> does with the same options (checked
    /// once, on the probe connection; each load connection then accepts exactly that certificate); null for plain TCP.
    /// </summary>
    public ClientTlsOptions? Tls { get; init; }

    /// <summary>
    /// PROXY protocol version (1 or 2) of a header each connection sends first, naming a made-up client of its own
    /// (10.x.y.z, see <see cref="MadeUpProxyHeaders"/>), so a server with <c>--trusted-proxy</c> for this machine can
    /// be loaded directly, as if through a balancer; before TLS when both are on. Default 0: no header.
    /// </summary>
    public int ProxyProtocol { get; init; }

    /// <summary>
    /// Time allowed for each step (connect, TLS handshake, greeting, a send, the server's close) before the connection
    /// counts as a timeout. Default 10 s (tcpload's).
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Most connections awaiting their first greeting at a time, so a large run does not flood the backlog. Default 256.</summary>
    public int Window { get; init; } = 256;

    /// <summary>Stream mode: how long to wait for the server's close after the last message. Default 30 s (tcpload's).</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Stream mode: the server acknowledges every message (<c>tcptalk serve --ack</c>), and each connection keeps at
    /// most <see cref="AckWindow"/> messages unacknowledged, counting the acks and their latency. Default false.
    /// </summary>
    public bool Acknowledged { get; init; }

    /// <summary>
    /// With <see cref="Acknowledged"/>: most messages per connection sent and not yet acknowledged. Default 1024: a few
    /// group commits' worth at the journal's pace, small enough that the latency measured is the commit's, not a queue's.
    /// </summary>
    public int AckWindow { get; init; } = 1024;

    /// <summary>The byte that ends a greeting and every message (delimited framings only).</summary>
    internal byte Terminator => Framing == FramingMode.Line ? (byte)'\n' : (byte)0;

    /// <summary>Bytes one message takes on the wire: the message and its terminator, or its length header and the message.</summary>
    internal int FrameBytes => MessageBytes + Framing switch
    {
        FramingMode.Octet => MessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture).Length + 1,
        FramingMode.U16BE => 2,
        FramingMode.U32BE => 4,
        _ => 1,
    };

    /// <summary>Why these options cannot run, or null: the length-prefixed framings are for stream and hold mode only.</summary>
    public string? FramingProblem() => Framing.IsLengthPrefixed() switch
    {
        true when Mode == BenchMode.Session => $"--framing {Framing.ToName()} is for stream and hold mode; session mode frames with nul or line",
        true when Framing == FramingMode.U16BE && MessageBytes > ushort.MaxValue => $"--framing u16be carries at most {ushort.MaxValue} bytes, not --message-bytes {MessageBytes}",
        _ => null,
    };
}
