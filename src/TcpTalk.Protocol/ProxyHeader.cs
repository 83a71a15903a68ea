using System.Globalization;
using System.Net;
using System.Text;

namespace TcpTalk.Protocol;

/// <summary>
/// One PROXY protocol header (haproxy's doc/proxy-protocol.txt, v1 or v2) as <see cref="ProxyHeaderParser"/> read it:
/// who the balancer says the client is, or that the connection's own endpoints are to be used.
/// </summary>
/// <remarks>
/// <see cref="Source"/> is set exactly when the header names an IPv4 or IPv6 client: v1 <c>TCP4</c>/<c>TCP6</c>, v2
/// <c>PROXY</c> over AF_INET/AF_INET6 with STREAM or DGRAM. Otherwise (v1 <c>UNKNOWN</c>, v2 <c>LOCAL</c>, v2
/// AF_UNSPEC or UNSPEC transport, v2 AF_UNIX) <see cref="UsesRealEndpoints"/> is true and the receiver serves the
/// connection with the endpoints of the socket itself, as the specification asks.
/// </remarks>
public sealed class ProxyHeader
{
    internal ProxyHeader(int version, ProxyCommand command, ProxyAddressFamily family, ProxyTransport transport,
        IPEndPoint? source, IPEndPoint? destination, byte[]? uniqueId, int length)
    {
        Version = version;
        Command = command;
        Family = family;
        Transport = transport;
        Source = source;
        Destination = destination;
        UniqueId = uniqueId;
        Length = length;
    }

    /// <summary>1 for the text header (<c>PROXY TCP4 ...\r\n</c>), 2 for the binary one.</summary>
    public int Version { get; }

    /// <summary><see cref="ProxyCommand.Proxy"/> for a relayed connection, <see cref="ProxyCommand.Local"/> for the balancer's own (a health check). v1 is always Proxy.</summary>
    public ProxyCommand Command { get; }

    /// <summary>The original connection's address family; <see cref="ProxyAddressFamily.Unspecified"/> for v1 UNKNOWN and every v2 LOCAL (whose family byte is ignored).</summary>
    public ProxyAddressFamily Family { get; }

    /// <summary>The original connection's transport; v1 TCP4/TCP6 is <see cref="ProxyTransport.Stream"/>.</summary>
    public ProxyTransport Transport { get; }

    /// <summary>The client's address and port, or null when the connection's real endpoints are to be used.</summary>
    public IPEndPoint? Source { get; }

    /// <summary>The address and port the client connected to (the balancer's frontend), or null with <see cref="Source"/>.</summary>
    public IPEndPoint? Destination { get; }

    /// <summary>
    /// The v2 PP2_TYPE_UNIQUE_ID TLV's value (0x05, opaque, at most 128 bytes; haproxy's <c>unique-id-format</c>), or
    /// null when the header has none. When the TLV appears more than once the first one is kept.
    /// </summary>
#pragma warning disable CA1819 // an opaque byte string of at most 128 bytes, made once per connection; a copy would be pointless
    public byte[]? UniqueId { get; }
#pragma warning restore CA1819

    /// <summary>How many bytes the header occupied at the start of the stream (what the parser consumed).</summary>
    public int Length { get; }

    /// <summary>True when the header names no client (v1 UNKNOWN, v2 LOCAL, UNSPEC or AF_UNIX): use the socket's own endpoints.</summary>
    public bool UsesRealEndpoints => Source is null;

    /// <summary>
    /// A one-line description for logs and tests, e.g. <c>v2 PROXY tcp4 127.0.0.5:40112 -> 127.0.0.1:8000 unique-id "abc" (45 bytes)</c>;
    /// the unique id is escaped and cut at 80 bytes like any quoted input.
    /// </summary>
    public override string ToString()
    {
        var text = new StringBuilder(96);
        text.Append('v').Append(Version).Append(' ').Append(Command == ProxyCommand.Local ? "LOCAL" : "PROXY");
        text.Append(' ').Append(FamilyName(Family, Transport));
        if (Source is not null)
        {
            text.Append(' ').Append(Source).Append(" -> ").Append(Destination);
        }

        if (UniqueId is not null)
        {
            text.Append(" unique-id ").Append(ProtocolException.Quote(UniqueId));
        }

        text.Append(" (").Append(Length.ToString(CultureInfo.InvariantCulture)).Append(" bytes)");
        return text.ToString();
    }

    private static string FamilyName(ProxyAddressFamily family, ProxyTransport transport)
    {
        string name = family switch
        {
            ProxyAddressFamily.InterNetwork => "4",
            ProxyAddressFamily.InterNetworkV6 => "6",
            ProxyAddressFamily.Unix => "unix",
            _ => "unspec",
        };
        return transport switch
        {
            ProxyTransport.Stream => family is ProxyAddressFamily.Unix ? "unix-stream" : "tcp" + name,
            ProxyTransport.Datagram => family is ProxyAddressFamily.Unix ? "unix-dgram" : "udp" + name,
            _ => name == "unspec" ? "unspec" : name + "/unspec",
        };
    }
}

/// <summary>The v2 command nibble: why the balancer opened the connection.</summary>
public enum ProxyCommand
{
    /// <summary>0x0: the balancer's own connection (a health check); the receiver uses the real endpoints.</summary>
    Local = 0,

    /// <summary>0x1: relayed on behalf of the client the header names.</summary>
    Proxy = 1,
}

/// <summary>The v2 address family nibble (v1: TCP4, TCP6, UNKNOWN).</summary>
public enum ProxyAddressFamily
{
    /// <summary>0x0 AF_UNSPEC (v1 UNKNOWN): no usable address.</summary>
    Unspecified = 0,

    /// <summary>0x1 AF_INET: IPv4, 4-byte addresses.</summary>
    InterNetwork = 1,

    /// <summary>0x2 AF_INET6: IPv6, 16-byte addresses.</summary>
    InterNetworkV6 = 2,

    /// <summary>0x3 AF_UNIX: 108-byte paths, skipped (the parser falls back to UNSPEC for it).</summary>
    Unix = 3,
}

/// <summary>The v2 transport protocol nibble.</summary>
public enum ProxyTransport
{
    /// <summary>0x0 UNSPEC: addresses, if any, are ignored.</summary>
    Unspecified = 0,

    /// <summary>0x1 STREAM: TCP (or a UNIX stream socket).</summary>
    Stream = 1,

    /// <summary>0x2 DGRAM: UDP (or a UNIX datagram socket).</summary>
    Datagram = 2,
}
