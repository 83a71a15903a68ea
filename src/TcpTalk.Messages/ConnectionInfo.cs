using System.Net;
using TcpTalk.Protocol;

namespace TcpTalk.Messages;

/// <summary>
/// One accepted connection, named by its five parts: protocol, local address and port, remote address and port.
/// The remote address shown to people is decided here, once per connection (IPv4-mapped addresses become IPv4). For a
/// connection relayed by a trusted balancer (PROXY protocol), they are the endpoints its header names: the client's,
/// and the address the client reached.
/// A unix-socket connection (<see cref="Protocol"/> <c>unix</c>) has no IP addresses or ports: its local address is
/// the socket's path (<c>unix:/run/tcptalk.sock</c>), its remote one the peer's name (<see cref="UnixPeer.Name"/>:
/// <c>unix:pid=42,uid=1000</c>, or <c>unix</c>); its <see cref="LocalAddress"/> and <see cref="RemoteAddress"/> are
/// <see cref="IPAddress.None"/> and its ports 0, so code that only knows IP addresses still sees something valid.
/// </summary>
public sealed class ConnectionInfo
{
    private string? _localText;
    private string? _remoteText;

    /// <summary>Creates the description of a TCP connection.</summary>
    public ConnectionInfo(long id, IPEndPoint local, IPEndPoint remote)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(remote);
        Id = id;
        LocalAddress = ClientAddress.Normalize(local.Address);
        LocalPort = local.Port;
        RemoteAddress = ClientAddress.Normalize(remote.Address);
        RemotePort = remote.Port;
    }

    /// <summary>Creates the description of a unix-socket connection accepted on <paramref name="socketPath"/>.</summary>
    /// <param name="id">The server's number for the connection.</param>
    /// <param name="socketPath">The listening socket's path (without <c>unix:</c>); empty when it has none.</param>
    /// <param name="peer">What the OS says about the peer; <see cref="UnixPeer.Unknown"/> when nothing.</param>
    public ConnectionInfo(long id, string socketPath, UnixPeer peer)
    {
        ArgumentNullException.ThrowIfNull(socketPath);
        ArgumentNullException.ThrowIfNull(peer);
        Id = id;
        LocalAddress = IPAddress.None;
        RemoteAddress = IPAddress.None;
        UnixPeer = peer;
        _localText = socketPath.Length == 0 ? "unix" : UnixPeer.Prefix + socketPath;
        _remoteText = peer.Name;
    }

    /// <summary>The server's number for this connection, unique within the process, counting from 1.</summary>
    public long Id { get; }

    /// <summary>The transport protocol: <c>tcp</c>, or <c>unix</c> for a unix-socket connection.</summary>
    public string Protocol => IsUnixSocket ? "unix" : "tcp";

    /// <summary>Whether the client connected over a unix socket (then <see cref="UnixPeer"/> is set).</summary>
    public bool IsUnixSocket => UnixPeer is not null;

    /// <summary>What the OS says about a unix-socket peer; null for TCP.</summary>
    public UnixPeer? UnixPeer { get; }

    /// <summary>The server address the client reached (<see cref="IPAddress.None"/> for a unix socket).</summary>
    public IPAddress LocalAddress { get; }

    /// <summary>The server port the client reached (0 for a unix socket).</summary>
    public int LocalPort { get; }

    /// <summary>The client's address as shown in the greeting, output and logs (<see cref="IPAddress.None"/> for a unix socket).</summary>
    public IPAddress RemoteAddress { get; }

    /// <summary>The client's port (0 for a unix socket).</summary>
    public int RemotePort { get; }

    /// <summary>
    /// The server address as both journals store it: <c>127.0.0.1</c>, <c>::1</c>, or <c>unix:/run/tcptalk.sock</c>.
    /// Formatted once per connection.
    /// </summary>
    public string LocalAddressText => _localText ??= LocalAddress.ToString();

    /// <summary>
    /// The PROXY protocol v2 UNIQUE_ID TLV the balancer sent for this connection (haproxy's <c>unique-id-format</c>),
    /// or null: none was sent, or the connection came straight from the client. Stored with its records by the journals.
    /// </summary>
#pragma warning disable CA1819 // an opaque id of at most 128 bytes, made once per connection; never changed after
    public byte[]? UniqueId { get; init; }
#pragma warning restore CA1819

    /// <summary>
    /// The client's address as the greeting shows it and both journals store it: <c>127.0.0.1</c>, <c>::1</c>, or
    /// for a unix-socket peer <c>unix:pid=42,uid=1000</c> (<c>unix</c> when the OS does not say). Formatted once per connection.
    /// </summary>
    public string RemoteAddressText => _remoteText ??= RemoteAddress.ToString();

    /// <summary><c>127.0.0.1:5000</c>, <c>[::1]:5000</c>, or <c>unix:pid=42,uid=1000</c>.</summary>
    public string Remote => IsUnixSocket ? RemoteAddressText : ClientAddress.FormatEndpoint(RemoteAddress, RemotePort);

    /// <summary><c>127.0.0.1:12345</c>, <c>[::1]:12345</c>, or <c>unix:/run/tcptalk.sock</c>.</summary>
    public string Local => IsUnixSocket ? LocalAddressText : ClientAddress.FormatEndpoint(LocalAddress, LocalPort);

    /// <summary>The five parts: <c>tcp 127.0.0.1:12345 &lt;- 127.0.0.1:5000</c>, <c>unix unix:/run/tcptalk.sock &lt;- unix:pid=42,uid=1000</c>.</summary>
    public override string ToString() => $"{Protocol} {Local} <- {Remote}";
}
