using System.Net;
using TcpTalk.Protocol;

namespace TcpTalk.Messages;

/// <summary>
/// One accepted TCP connection, named by its five parts: protocol, local address and port, remote address and port.
/// The remote address shown to people is decided here, once per connection (IPv4-mapped addresses become IPv4). For a
/// connection relayed by a trusted balancer (PROXY protocol), they are the endpoints its header names: the client's,
/// and the address the client reached.
/// </summary>
public sealed class ConnectionInfo
{
    /// <summary>Creates the description of a connection.</summary>
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

    /// <summary>The server's number for this connection, unique within the process, counting from 1.</summary>
    public long Id { get; }

    /// <summary>The transport protocol: always <c>tcp</c>.</summary>
    public string Protocol => "tcp";

    /// <summary>The server address the client reached.</summary>
    public IPAddress LocalAddress { get; }

    /// <summary>The server port the client reached.</summary>
    public int LocalPort { get; }

    /// <summary>The client's address as shown in the greeting, output and logs.</summary>
    public IPAddress RemoteAddress { get; }

    /// <summary>The client's port.</summary>
    public int RemotePort { get; }

    /// <summary>
    /// The PROXY protocol v2 UNIQUE_ID TLV the balancer sent for this connection (haproxy's <c>unique-id-format</c>),
    /// or null: none was sent, or the connection came straight from the client. Stored with its records by the journals.
    /// </summary>
#pragma warning disable CA1819 // an opaque id of at most 128 bytes, made once per connection; never changed after
    public byte[]? UniqueId { get; init; }
#pragma warning restore CA1819

    /// <summary><c>127.0.0.1:5000</c> or <c>[::1]:5000</c>.</summary>
    public string Remote => ClientAddress.FormatEndpoint(RemoteAddress, RemotePort);

    /// <summary><c>127.0.0.1:12345</c> or <c>[::1]:12345</c>.</summary>
    public string Local => ClientAddress.FormatEndpoint(LocalAddress, LocalPort);

    /// <summary>The five parts: <c>tcp 127.0.0.1:12345 &lt;- 127.0.0.1:5000</c>.</summary>
    public override string ToString() => $"{Protocol} {Local} <- {Remote}";
}
